/** The logged-in frame: who the key is, the navigation, and the view the path names. */
import { useQuery } from 'urql';
import { Characters } from './Characters';
import { ErrorView } from './ErrorView';
import { Jobs } from './Jobs';
import { ViewerDocument } from './generated/graphql';
import { Link, route, usePath } from './router';
import { ScriptEditor } from './ScriptEditor';
import { Stories } from './Stories';
import { StoryView } from './StoryView';

export function Shell({ onLogOut }: { onLogOut(): void }) {
  const [{ data, error }] = useQuery({ query: ViewerDocument });
  const current = route(usePath());
  const viewer = data?.viewer;

  return (
    <div className="app">
      <header className="topbar">
        <Link to="/stories" className="brand">StoryForge Studio</Link>
        <nav>
          <Link to="/stories" className={current.view === 'stories' || current.view === 'story' ? 'active' : ''}>Stories</Link>
          <Link to="/stories/new" className={current.view === 'new-story' ? 'active' : ''}>New story</Link>
          <Link to="/characters" className={current.view === 'characters' ? 'active' : ''}>Characters</Link>
          <Link to="/jobs" className={current.view === 'jobs' ? 'active' : ''}>Jobs</Link>
        </nav>
        <span className="who">{viewer ? `${viewer.project.name} · ${viewer.role.toLowerCase()} · ${viewer.apiKey.name}` : ''}</span>
        <button type="button" className="logout" onClick={onLogOut}>Log out</button>
      </header>
      <main className="content">
        <ErrorView error={error} />
        {current.view === 'stories' && <Stories />}
        {current.view === 'characters' && <Characters />}
        {current.view === 'jobs' && <Jobs />}
        {current.view === 'new-story' && <ScriptEditor />}
        {current.view === 'story' && <StoryView key={current.id} id={current.id} />}
        {current.view === 'not-found' && <p className="empty">Nothing here. <Link to="/stories">Back to the stories.</Link></p>}
      </main>
    </div>
  );
}
