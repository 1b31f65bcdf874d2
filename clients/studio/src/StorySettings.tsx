/**
 * A story's title, cast, steps and seed after creation (updateStory), and deleting the story
 * (deleteStory, after a confirm step). As in the character editor, the API checks the fields and
 * the form shows what it refused: a cast change that would leave a frame without a character it
 * names is a CONFLICT naming that frame.
 */
import { useState } from 'react';
import type { FormEvent } from 'react';
import { useMutation } from 'urql';
import { LISTS_STORIES } from './cache-hints';
import { CastPicker } from './CastPicker';
import type { CastMember } from './CastPicker';
import { ErrorView, errorFields } from './ErrorView';
import { DeleteStoryDocument, UpdateStoryDocument } from './generated/graphql';
import type { UpdateStoryInput } from './generated/schema-types';
import { navigate } from './router';

interface StoryFields {
  id: string;
  title: string;
  steps: number;
  seed: number;
  characters: readonly CastMember[];
}

export function StorySettings({ story }: { story: StoryFields }) {
  // Drawn only while open: the cast picker asks the API for characters.
  const [open, setOpen] = useState(false);
  return (
    <details className="card story-settings" onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>Story settings</summary>
      {open && (
        <>
          {/* Keyed: a saved (or elsewhere changed) story opens the form on what the API holds. */}
          <SettingsForm key={`${story.title}|${story.steps}|${story.seed}|${story.characters.map((c) => c.id).join()}`} story={story} />
          <DeleteStory story={story} />
        </>
      )}
    </details>
  );
}

function SettingsForm({ story }: { story: StoryFields }) {
  const [title, setTitle] = useState(story.title);
  const [cast, setCast] = useState<CastMember[]>(story.characters.map((c) => ({ id: c.id, name: c.name })));
  const [steps, setSteps] = useState(String(story.steps));
  const [seed, setSeed] = useState(String(story.seed));
  const [{ fetching, error, data }, update] = useMutation(UpdateStoryDocument);
  const bad = errorFields(error);
  const invalid = (field: string) => (bad.has(field) ? true : undefined);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const input: UpdateStoryInput = { title, characterIds: cast.map((c) => c.id) };
    // Blank keeps the value (a number field reads blank for anything that is not a number).
    if (steps.trim() !== '') input.steps = Number(steps);
    if (seed.trim() !== '') input.seed = Number(seed);
    void update({ id: story.id, input });
  };

  return (
    <form className="story-settings-form" noValidate onSubmit={submit}>
      <label>
        Title
        <input name="storyTitle" value={title} aria-invalid={invalid('title')} onChange={(e) => setTitle(e.target.value)} />
      </label>
      <CastPicker cast={cast} onChange={setCast} />
      <div className="row">
        <label>
          Steps
          <input name="storySteps" type="number" value={steps} aria-invalid={invalid('steps')} onChange={(e) => setSteps(e.target.value)} />
        </label>
        <label>
          Seed
          <input name="storySeed" type="number" value={seed} aria-invalid={invalid('seed')} onChange={(e) => setSeed(e.target.value)} />
        </label>
      </div>
      <button type="submit" className="primary" disabled={fetching}>{fetching ? 'Saving…' : 'Save settings'}</button>
      {data?.updateStory && !error && <span className="hint saved">Saved.</span>}
      <ErrorView error={error} />
    </form>
  );
}

/** Delete, then a second click to confirm: the frames and their renders go with the story. */
function DeleteStory({ story }: { story: StoryFields }) {
  const [confirming, setConfirming] = useState(false);
  const [{ fetching, error }, remove] = useMutation(DeleteStoryDocument);

  const confirm = async () => {
    // The answer is a DeletePayload, which no query lists: the context names what changed.
    const result = await remove({ id: story.id }, LISTS_STORIES);
    if (!result.error) navigate('/stories');
  };

  if (!confirming) {
    return <button type="button" className="danger delete-story" onClick={() => setConfirming(true)}>Delete story</button>;
  }
  return (
    <div className="confirm" role="alertdialog" aria-label={`Delete ${story.title}`}>
      <p>Delete “{story.title}” with its frames and their renders? This cannot be undone.</p>
      <div className="actions">
        <button type="button" className="danger confirm-delete" disabled={fetching} onClick={confirm}>Delete story</button>
        <button type="button" className="keep" onClick={() => setConfirming(false)}>Keep</button>
      </div>
      <ErrorView error={error} />
    </div>
  );
}
