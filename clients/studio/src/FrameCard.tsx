/** One frame in the grid: its current render, prompt and caption, regenerate, and its render history. */
import { useEffect, useState } from 'react';
import { useMutation, useQuery } from 'urql';
import { LISTS_RENDERS } from './cache-hints';
import { ErrorView } from './ErrorView';
import { FrameRendersDocument, RegenerateFrameDocument, SetCurrentRenderDocument } from './generated/graphql';
import type { FrameCardFragment, JobStateFragment } from './generated/graphql';
import { Warnings } from './Warnings';

interface Props {
  frame: FrameCardFragment;
  /** Changes whenever renders may have changed. */
  version: number;
  onJob(job: JobStateFragment): void;
}

export function FrameCard({ frame, version, onJob }: Props) {
  const [showHistory, setShowHistory] = useState(false);
  const [regenerating, regenerate] = useMutation(RegenerateFrameDocument);
  const render = frame.currentRender;

  const again = async () => {
    const job = (await regenerate({ frameId: frame.id })).data?.regenerateFrame?.job;
    if (job) onJob(job);
  };

  return (
    <article className="card frame" data-frame-id={frame.id} data-position={frame.position}>
      <div className="frame-image">
        {render
          ? <img src={render.url} alt={`Frame ${frame.position}`} width={render.width} height={render.height} data-render-id={render.id} />
          : <div className="placeholder">not rendered yet</div>}
      </div>
      <div className="frame-body">
        <h3>Frame {frame.position}</h3>
        <p className="prompt">{frame.prompt}</p>
        {frame.caption && <p className="caption">{frame.caption}</p>}
        <p className="meta">{frame.noCharacter ? 'no character' : frame.characters.map((c) => c.name).join(', ') || 'no cast'}
          {render && ` · seed ${render.seed}`}</p>
        <Warnings warnings={frame.promptWarnings} compact />
        <div className="actions">
          <button type="button" className="regenerate" disabled={regenerating.fetching} onClick={again}>Regenerate</button>
          <button type="button" className="history-toggle" aria-expanded={showHistory} onClick={() => setShowHistory((s) => !s)}>
            {showHistory ? 'Hide history' : 'History'}
          </button>
        </div>
        <ErrorView error={regenerating.error} />
        {showHistory && <RenderHistory frameId={frame.id} version={version} />}
      </div>
    </article>
  );
}

/** Every render of the frame, newest first (the API lists them oldest first), the current one marked. */
function RenderHistory({ frameId, version }: { frameId: string; version: number }) {
  const [{ data, fetching, error }, refetch] = useQuery({ query: FrameRendersDocument, variables: { id: frameId }, requestPolicy: 'cache-and-network', context: LISTS_RENDERS });
  const [setting, setCurrent] = useMutation(SetCurrentRenderDocument);

  useEffect(() => {
    if (version > 0) refetch({ requestPolicy: 'network-only' });
  }, [version, refetch]);

  const node = data?.node && 'renders' in data.node ? data.node : null;
  const renders = node ? node.renders.edges.map((e) => e.node).reverse() : [];

  return (
    <div className="history">
      <ErrorView error={error ?? setting.error} />
      {!fetching && renders.length === 0 && <p className="empty">No renders yet.</p>}
      <ol className="history-list">
        {renders.map((r) => (
          <li key={r.id} className={r.isCurrent ? 'current' : undefined} data-render-id={r.id} data-current={r.isCurrent}>
            <img src={r.url} alt={`Render with seed ${r.seed}`} />
            <span className="meta">
              seed {r.seed} · {new Date(r.createdAt).toLocaleTimeString()}
              {r.durationMs != null && ` · ${(r.durationMs / 1000).toFixed(1)} s`}
              {r.consistencyScore != null && ` · consistency ${r.consistencyScore.toFixed(2)}`}
            </span>
            {r.isCurrent
              ? <span className="badge">current</span>
              : <button type="button" className="link" disabled={setting.fetching} onClick={() => setCurrent({ frameId, renderId: r.id })}>Make current</button>}
          </li>
        ))}
      </ol>
    </div>
  );
}
