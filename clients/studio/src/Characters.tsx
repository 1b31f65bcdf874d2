/** The project's characters with their reference pictures, and a form for a new one. */
import { useState } from 'react';
import type { FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { LISTS_CHARACTERS } from './cache-hints';
import { ErrorView } from './ErrorView';
import { CharactersDocument, CreateCharacterDocument } from './generated/graphql';

export function Characters() {
  const [{ data, fetching, error }] = useQuery({ query: CharactersDocument, context: LISTS_CHARACTERS });
  const characters = data?.characters.edges.map((e) => e.node) ?? [];

  return (
    <section className="characters">
      <h1>Characters</h1>
      <ErrorView error={error} />
      {!fetching && characters.length === 0 && <p className="empty">No characters yet.</p>}
      <ul className="character-list">
        {characters.map((c) => (
          <li key={c.id} className="card character" data-character={c.name}>
            <h2>{c.name}</h2>
            <p>{c.description}</p>
            {c.referenceImages.length > 0 && (
              <div className="references">
                {c.referenceImages.map((r) => <img key={r.id} src={r.url} alt={`${c.name}, reference ${r.position}`} />)}
              </div>
            )}
          </li>
        ))}
      </ul>
      <NewCharacter />
    </section>
  );
}

function NewCharacter() {
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [{ fetching, error }, create] = useMutation(CreateCharacterDocument);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const result = await create({ input: { name: name.trim(), description: description.trim() } });
    // The characters list refreshes itself: the result names a Character, which urql's cache watches.
    if (!result.error) {
      setName('');
      setDescription('');
    }
  };

  return (
    <form className="card new-character" onSubmit={submit}>
      <h2>New character</h2>
      <label>
        Name
        <input name="name" required value={name} onChange={(e) => setName(e.target.value)} />
      </label>
      <label>
        Description <span className="hint">who this is, reused in every frame they appear in</span>
        <textarea name="description" rows={2} required value={description} onChange={(e) => setDescription(e.target.value)} />
      </label>
      <button type="submit" className="primary" disabled={fetching}>Create character</button>
      <ErrorView error={error} />
    </form>
  );
}
