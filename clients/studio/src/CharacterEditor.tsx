/**
 * Editing a character (updateCharacter) and deleting one (deleteCharacter, after a confirm step).
 * The API checks the fields: the form sends what was typed and shows what the API refused, with
 * the field it names marked, rather than guessing its rules in the page.
 */
import { useState } from 'react';
import type { FormEvent } from 'react';
import { useMutation } from 'urql';
import { LISTS_CHARACTERS } from './cache-hints';
import { ErrorView, errorFields } from './ErrorView';
import { DeleteCharacterDocument, UpdateCharacterDocument } from './generated/graphql';
import type { CharacterCardFragment } from './generated/graphql';
import type { UpdateCharacterInput } from './generated/schema-types';

export function CharacterEditor({ character, onDone }: { character: CharacterCardFragment; onDone(): void }) {
  const [name, setName] = useState(character.name);
  const [description, setDescription] = useState(character.description);
  const [negativePrompt, setNegativePrompt] = useState(character.negativePrompt);
  const [seed, setSeed] = useState(String(character.seed));
  const [{ fetching, error }, update] = useMutation(UpdateCharacterDocument);
  const bad = errorFields(error);
  const invalid = (field: string) => (bad.has(field) ? true : undefined);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const input: UpdateCharacterInput = { name, description, negativePrompt };
    // Blank keeps the seed (a number field reads blank for anything that is not a number).
    if (seed.trim() !== '') input.seed = Number(seed);
    const result = await update({ id: character.id, input });
    // The card shows the answer: the result is a Character, which the list's query watches.
    if (!result.error) onDone();
  };

  return (
    // noValidate: an empty name goes to the API, whose refusal names the field.
    <form className="edit-character" noValidate onSubmit={submit}>
      <label>
        Name
        <input name="name" value={name} aria-invalid={invalid('name')} onChange={(e) => setName(e.target.value)} />
      </label>
      <label>
        Description
        <textarea name="description" rows={3} value={description} aria-invalid={invalid('description')}
          onChange={(e) => setDescription(e.target.value)} />
      </label>
      <label>
        Negative prompt <span className="hint">what this character's frames should avoid</span>
        <textarea name="negativePrompt" rows={2} value={negativePrompt} aria-invalid={invalid('negativePrompt')}
          onChange={(e) => setNegativePrompt(e.target.value)} />
      </label>
      <label>
        Seed <span className="hint">of the identity frames</span>
        <input name="seed" type="number" min={0} step={1} value={seed} aria-invalid={invalid('seed')} onChange={(e) => setSeed(e.target.value)} />
      </label>
      <div className="actions">
        <button type="submit" className="primary" disabled={fetching}>{fetching ? 'Saving…' : 'Save'}</button>
        <button type="button" className="cancel" onClick={onDone}>Cancel</button>
      </div>
      <ErrorView error={error} />
    </form>
  );
}

/** Delete, then a second click to confirm: the character's reference pictures go with it. */
export function DeleteCharacter({ character }: { character: CharacterCardFragment }) {
  const [confirming, setConfirming] = useState(false);
  const [{ fetching, error }, remove] = useMutation(DeleteCharacterDocument);

  // The answer is a DeletePayload, which no query lists: the context names what changed.
  const confirm = () => remove({ id: character.id }, LISTS_CHARACTERS);

  if (!confirming) {
    return <button type="button" className="danger delete" onClick={() => setConfirming(true)}>Delete</button>;
  }
  return (
    <div className="confirm" role="alertdialog" aria-label={`Delete ${character.name}`}>
      <p>Delete {character.name}{character.referenceImages.length > 0 ? ' and its reference pictures' : ''}? This cannot be undone.</p>
      <div className="actions">
        <button type="button" className="danger confirm-delete" disabled={fetching} onClick={confirm}>Delete {character.name}</button>
        <button type="button" className="keep" onClick={() => setConfirming(false)}>Keep</button>
      </div>
      {/* CONFLICT while a story casts the character: the message says so. */}
      <ErrorView error={error} />
    </div>
  );
}
