/**
 * The story's script after creation: each frame's prompt and caption edited in place, frames
 * moved up or down and deleted, and more lines added in the script format (parsed by the API,
 * which answers the new frames' prompt warnings or the line it refused).
 */
import { useEffect, useState } from 'react';
import type { FormEvent } from 'react';
import { useMutation } from 'urql';
import { ErrorView, errorLine } from './ErrorView';
import { AddFramesDocument, DeleteFrameDocument, MoveFrameDocument, UpdateFrameDocument } from './generated/graphql';
import type { FrameCardFragment } from './generated/graphql';
import { ScriptArea } from './ScriptArea';
import { Warnings } from './Warnings';

export function StoryScript({ storyId, frames }: { storyId: string; frames: readonly FrameCardFragment[] }) {
  return (
    <details className="card script-editor">
      <summary>Edit script</summary>
      <ol className="frame-rows">
        {frames.map((frame) => <FrameRow key={frame.id} frame={frame} count={frames.length} />)}
      </ol>
      <AddFrames storyId={storyId} />
    </details>
  );
}

function FrameRow({ frame, count }: { frame: FrameCardFragment; count: number }) {
  const [prompt, setPrompt] = useState(frame.prompt);
  const [caption, setCaption] = useState(frame.caption);
  const [saved, save] = useMutation(UpdateFrameDocument);
  const [deleted, remove] = useMutation(DeleteFrameDocument);
  const [moved, move] = useMutation(MoveFrameDocument);
  // The others shift: the story's queries are told that frames changed.
  const moveTo = (position: number) => move({ id: frame.id, position }, { additionalTypenames: ['Frame', 'Story'] });
  const dirty = prompt !== frame.prompt || caption !== frame.caption;

  // What the API holds wins after a save or another tab's change.
  useEffect(() => {
    setPrompt(frame.prompt);
    setCaption(frame.caption);
  }, [frame.prompt, frame.caption]);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    void save({ id: frame.id, input: { prompt, caption } });
  };

  return (
    <li>
      <form className="frame-row" onSubmit={submit}>
        <span className="position">{frame.position}</span>
        <input name="prompt" aria-label={`Frame ${frame.position} prompt`} value={prompt} onChange={(e) => setPrompt(e.target.value)} />
        <input name="caption" aria-label={`Frame ${frame.position} caption`} placeholder="caption" value={caption}
          onChange={(e) => setCaption(e.target.value)} />
        <button type="submit" disabled={!dirty || saved.fetching}>Save</button>
        <button type="button" className="move-up" aria-label={`Move frame ${frame.position} up`} disabled={frame.position <= 1 || moved.fetching}
          onClick={() => moveTo(frame.position - 1)}>↑</button>
        <button type="button" className="move-down" aria-label={`Move frame ${frame.position} down`} disabled={frame.position >= count || moved.fetching}
          onClick={() => moveTo(frame.position + 1)}>↓</button>
        {/* The payload names no Frame: the story's queries are told what changed. */}
        <button type="button" className="danger" disabled={deleted.fetching}
          onClick={() => remove({ id: frame.id }, { additionalTypenames: ['Frame', 'Story'] })}>Delete</button>
      </form>
      <ErrorView error={saved.error ?? deleted.error ?? moved.error} />
    </li>
  );
}

function AddFrames({ storyId }: { storyId: string }) {
  const [script, setScript] = useState('');
  const [added, add] = useMutation(AddFramesDocument);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const result = await add({ storyId, script });
    if (!result.error) setScript('');
  };

  return (
    <form className="add-frames" onSubmit={submit}>
      <label>
        Add frames <span className="hint">script lines, appended to the story</span>
        <ScriptArea name="addScript" value={script} onChange={setScript} errorLine={errorLine(added.error)} rows={3} />
      </label>
      <button type="submit" disabled={added.fetching || script.trim() === ''}>Add frames</button>
      <ErrorView error={added.error} />
      {added.data?.addFrames && <Warnings warnings={added.data.addFrames.warnings} title="Warnings for the new frames" />}
    </form>
  );
}
