/**
 * The story as comic pages (each frame's current render with its caption, laid out by the API).
 * Drawn on request: the first read of a layout makes the server typeset every page.
 */
import { useEffect, useState } from 'react';
import { useQuery } from 'urql';
import { ErrorView } from './ErrorView';
import { StoryPagesDocument } from './generated/graphql';
import type { PageLayout } from './generated/schema-types';

const LAYOUTS: { value: PageLayout; label: string }[] = [
  { value: 'FOUR_PANEL', label: 'Four panels' },
  { value: 'CLASSIC_COMIC', label: 'Classic comic' },
];

export function ComicPages({ storyId, version }: { storyId: string; version: number }) {
  const [layout, setLayout] = useState<PageLayout>('FOUR_PANEL');
  const [shown, setShown] = useState(false);
  const [{ data, fetching, error }, refetch] = useQuery({ query: StoryPagesDocument, variables: { id: storyId, layout }, pause: !shown });

  useEffect(() => {
    if (shown && version > 0) refetch({ requestPolicy: 'network-only' });
    // Only a new version draws again; showing the pages is the query's own first run.
  }, [version]);

  const pages = data?.node && 'pages' in data.node ? data.node.pages : [];

  return (
    <section className="card comic">
      <div className="heading">
        <h2>Comic pages</h2>
        <select aria-label="Page layout" value={layout} onChange={(e) => setLayout(LAYOUTS.find((l) => l.value === e.target.value)?.value ?? 'FOUR_PANEL')}>
          {LAYOUTS.map((l) => <option key={l.value} value={l.value}>{l.label}</option>)}
        </select>
        {!shown && <button type="button" className="show-pages" onClick={() => setShown(true)}>Preview pages</button>}
      </div>
      <ErrorView error={error} />
      {shown && fetching && pages.length === 0 && <p className="hint">Drawing the pages…</p>}
      <div className="pages">
        {pages.map((p) => (
          <img key={`${layout}-${p.index}`} className="comic-page" src={p.url} width={p.width} height={p.height} alt={`Page ${p.index + 1}`} />
        ))}
      </div>
    </section>
  );
}
