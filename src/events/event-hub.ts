import type { StoryForgeEvent } from './publisher';

/** What a watcher follows: one job, one story, or one API key (its revocation). */
export type TopicKind = 'job' | 'story' | 'key';

const TOPIC: Record<StoryForgeEvent['type'], (e: StoryForgeEvent) => string> = {
  'job.updated': (e) => `job:${e.jobId}`,
  'story.updated': (e) => `story:${e.storyId}`,
  'key.revoked': (e) => `key:${e.keyId}`,
};

type Watcher = { projectId: string; changed: () => void };

/**
 * In-memory fan-out of the process's one LISTEN connection to its subscribers. Watchers are kept
 * by topic, so an event costs a map lookup whatever the number of subscriptions; an event is
 * passed on only to watchers of the same project, whatever ids it names.
 */
export class EventHub {
  private readonly watchers = new Map<string, Set<Watcher>>();

  /** Calls `changed` after each event about `kind:id` in `projectId`; returns the unwatch function. */
  watch(kind: TopicKind, id: string, projectId: string, changed: () => void): () => void {
    const topic = `${kind}:${id}`;
    const watcher: Watcher = { projectId, changed };
    const set = this.watchers.get(topic) ?? new Set<Watcher>();
    set.add(watcher);
    this.watchers.set(topic, set);
    return () => {
      set.delete(watcher);
      if (set.size === 0 && this.watchers.get(topic) === set) this.watchers.delete(topic);
    };
  }

  dispatch(event: StoryForgeEvent): void {
    const topic = TOPIC[event.type](event);
    for (const watcher of this.watchers.get(topic) ?? []) {
      if (watcher.projectId === event.projectId) watcher.changed();
    }
  }

  /** Every watcher: events may have been missed (the listening connection was down). */
  resync(): void {
    for (const set of this.watchers.values()) for (const watcher of set) watcher.changed();
  }

  /** Number of live watchers (operations, tests). */
  get size(): number {
    let n = 0;
    for (const set of this.watchers.values()) n += set.size;
    return n;
  }
}
