/** Every story of the project, oldest first as the API lists them. */
import { useQuery } from 'urql';
import { LISTS_STORIES } from './cache-hints';
import { ErrorView } from './ErrorView';
import { StoriesDocument } from './generated/graphql';
import { Link, storyPath } from './router';

export function Stories() {
  const [{ data, fetching, error }] = useQuery({ query: StoriesDocument, requestPolicy: 'cache-and-network', context: LISTS_STORIES });
  const stories = data?.stories.edges.map((e) => e.node) ?? [];

  return (
    <section>
      <div className="heading">
        <h1>Stories</h1>
        <Link to="/stories/new" className="button primary">New story</Link>
      </div>
      <ErrorView error={error} />
      {!fetching && stories.length === 0 && <p className="empty">No stories yet: write one from a script.</p>}
      <ul className="story-list">
        {stories.map((s) => (
          <li key={s.id} className="card">
            <Link to={storyPath(s.id)} className="story-link">{s.title}</Link>
            <span className="meta">{s.frameCount} frame{s.frameCount === 1 ? '' : 's'} · {s.model} · {new Date(s.updatedAt).toLocaleString()}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}
