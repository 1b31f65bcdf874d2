/** Every story of the project, newest first, a page at a time, or those whose title holds a search. */
import { useDeferredValue, useState } from 'react';
import { useQuery } from 'urql';
import { LISTS_STORIES } from './cache-hints';
import { ErrorView } from './ErrorView';
import { StoriesDocument } from './generated/graphql';
import { MorePages, PagedList } from './pages';
import type { PageProps } from './pages';
import { Link, storyPath } from './router';

export function Stories() {
  const [search, setSearch] = useState('');
  const asked = useDeferredValue(search.trim());
  return (
    <section>
      <div className="heading">
        <h1>Stories</h1>
        <input type="search" name="storySearch" className="list-search" placeholder="Find a story" aria-label="Find a story"
          value={search} onChange={(e) => setSearch(e.target.value)} />
        <Link to="/stories/new" className="button primary">New story</Link>
      </div>
      {/* Keyed: another search starts again from its first page. */}
      <PagedList key={asked} className="story-list" page={(p) => <StoriesPage {...p} search={asked} />} />
    </section>
  );
}

/** One page of the list, read and kept fresh by its own query (urql's document cache re-reads it when a story changes). */
function StoriesPage({ after, search, last, onMore }: PageProps & { search: string }) {
  const [{ data, fetching, error }] = useQuery({
    query: StoriesDocument, variables: { after, search: search || null }, requestPolicy: 'cache-and-network', context: LISTS_STORIES,
  });
  const stories = data?.stories.edges.map((e) => e.node) ?? [];
  return (
    <>
      {error && <li><ErrorView error={error} /></li>}
      {after === null && !fetching && !error && stories.length === 0 && (
        <li className="empty">{search ? `No story title holds “${search}”.` : 'No stories yet: write one from a script.'}</li>
      )}
      {stories.map((s) => (
        <li key={s.id} className="card">
          <Link to={storyPath(s.id)} className="story-link">{s.title}</Link>
          <span className="meta">{s.frameCount} frame{s.frameCount === 1 ? '' : 's'} · {s.model} · {new Date(s.updatedAt).toLocaleString()}</span>
        </li>
      ))}
      {last && <MorePages pageInfo={data?.stories.pageInfo} label="More stories" onMore={onMore} />}
    </>
  );
}
