/**
 * A new story from a script (StoryDiffusion's format: one frame per line, `#` starts the caption,
 * `[NC]` no character, `[Name]` who appears). The API parses it: a refused script comes back as
 * BAD_USER_INPUT naming the line, which the gutter marks.
 */
import { useState } from 'react';
import type { FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { CastPicker } from './CastPicker';
import type { CastMember } from './CastPicker';
import { ErrorView, errorLine } from './ErrorView';
import { CreateStoryDocument, ModelsDocument } from './generated/graphql';
import type { CreateStoryInput } from './generated/schema-types';
import { navigate, storyPath } from './router';
import { ScriptArea } from './ScriptArea';

const EXAMPLE = '[Mira] walks into the old library # It was quieter than she remembered.\n[NC] dust in a beam of light\n[Mira] opens a map on the table # Here.';

export function ScriptEditor() {
  const [{ data: models }] = useQuery({ query: ModelsDocument });
  const [title, setTitle] = useState('');
  const [script, setScript] = useState('');
  const [cast, setCast] = useState<CastMember[]>([]);
  const [steps, setSteps] = useState('');
  const [seed, setSeed] = useState('');
  const [{ fetching, error }, createStory] = useMutation(CreateStoryDocument);
  const model = models?.models.find((m) => m.isDefault);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const input: CreateStoryInput = { title: title.trim(), script, characterIds: cast.map((c) => c.id) };
    // Blank: the story's defaults (the model's steps, a random seed).
    if (steps !== '') input.steps = Number(steps);
    if (seed !== '') input.seed = Number(seed);
    const result = await createStory({ input });
    const story = result.data?.createStory;
    if (story) navigate(storyPath(story.id));
  };

  return (
    <section>
      <h1>New story</h1>
      <form className="card story-form" onSubmit={submit}>
        <label>
          Title
          <input name="title" required value={title} onChange={(e) => setTitle(e.target.value)} />
        </label>
        <CastPicker cast={cast} onChange={setCast} />
        <div className="row">
          <label>
            Steps
            <input name="steps" type="number" min={model?.steps.min} max={model?.steps.max}
              placeholder={model ? String(model.steps.default) : ''} value={steps} onChange={(e) => setSteps(e.target.value)} />
          </label>
          <label>
            Seed
            <input name="seed" type="number" placeholder="random" value={seed} onChange={(e) => setSeed(e.target.value)} />
          </label>
        </div>
        <label>
          Script <span className="hint">one frame per line · <code>#</code> starts the caption · <code>[NC]</code> no character · <code>[Name]</code> who appears</span>
          <ScriptArea name="script" value={script} onChange={setScript} placeholder={EXAMPLE} errorLine={errorLine(error)} rows={8} />
        </label>
        <button type="submit" className="primary" disabled={fetching}>{fetching ? 'Creating…' : 'Create story'}</button>
        <ErrorView error={error} />
      </form>
    </section>
  );
}
