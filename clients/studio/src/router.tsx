/**
 * Paths in the address bar (/stories/<id>, /characters): the API answers index.html for them, so
 * a reload or a shared link opens the same view. A story's id is a Relay id (base64) and is
 * percent-encoded in the path.
 */
import { useSyncExternalStore } from 'react';
import type { MouseEvent, ReactNode } from 'react';

const NAVIGATED = 'studio:navigate';

function subscribe(changed: () => void): () => void {
  window.addEventListener('popstate', changed);
  window.addEventListener(NAVIGATED, changed);
  return () => {
    window.removeEventListener('popstate', changed);
    window.removeEventListener(NAVIGATED, changed);
  };
}

export function usePath(): string {
  return useSyncExternalStore(subscribe, () => window.location.pathname);
}

export function navigate(path: string): void {
  if (path === window.location.pathname) return;
  window.history.pushState(null, '', path);
  window.dispatchEvent(new Event(NAVIGATED));
}

export const storyPath = (id: string) => `/stories/${encodeURIComponent(id)}`;

export function Link({ to, className, children }: { to: string; className?: string; children: ReactNode }) {
  const click = (event: MouseEvent<HTMLAnchorElement>) => {
    // A modified click (new tab, new window) is the browser's.
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(to);
  };
  return <a href={to} className={className} onClick={click}>{children}</a>;
}

export type Route =
  | { view: 'stories' }
  | { view: 'characters' }
  | { view: 'jobs' }
  | { view: 'new-story' }
  | { view: 'story'; id: string }
  | { view: 'not-found' };

export function route(path: string): Route {
  if (path === '/' || path === '/stories') return { view: 'stories' };
  if (path === '/characters') return { view: 'characters' };
  if (path === '/jobs') return { view: 'jobs' };
  if (path === '/stories/new') return { view: 'new-story' };
  const story = /^\/stories\/([^/]+)$/.exec(path);
  if (story) {
    try {
      return { view: 'story', id: decodeURIComponent(story[1]!) };
    } catch {
      return { view: 'not-found' };
    }
  }
  return { view: 'not-found' };
}
