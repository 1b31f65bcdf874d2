import { ChangeFeed } from '../../src/events/change-feed';
import { EventHub } from '../../src/events/event-hub';
import { parseEvent } from '../../src/events/parse-event';

const P1 = '11111111-1111-4111-8111-111111111111';
const P2 = '22222222-2222-4222-8222-222222222222';
const JOB = '33333333-3333-4333-8333-333333333333';
const STORY = '44444444-4444-4444-8444-444444444444';

describe('EventHub', () => {
  it('passes an event only to watchers of its topic in its project', () => {
    const hub = new EventHub();
    const seen: string[] = [];
    hub.watch('job', JOB, P1, () => seen.push('job in P1'));
    hub.watch('job', JOB, P2, () => seen.push('job in P2'));
    hub.watch('story', STORY, P1, () => seen.push('story in P1'));
    hub.dispatch({ type: 'job.updated', projectId: P1, jobId: JOB, storyId: STORY });
    expect(seen).toEqual(['job in P1']);
    hub.dispatch({ type: 'story.updated', projectId: P2, storyId: STORY });
    expect(seen).toEqual(['job in P1']);
    hub.resync();
    expect(seen.sort()).toEqual(['job in P1', 'job in P1', 'job in P2', 'story in P1']);
  });

  it('forgets a watcher that unwatched, and the topic with its last watcher', () => {
    const hub = new EventHub();
    const calls: number[] = [];
    const stop = hub.watch('story', STORY, P1, () => calls.push(1));
    hub.watch('story', STORY, P1, () => calls.push(2))();
    expect(hub.size).toBe(1);
    stop();
    expect(hub.size).toBe(0);
    hub.dispatch({ type: 'story.updated', projectId: P1, storyId: STORY });
    expect(calls).toEqual([]);
  });
});

describe('ChangeFeed', () => {
  const make = (initial: boolean) => {
    let changed: () => void = () => undefined;
    let watching = false;
    const feed = new ChangeFeed((onChange) => {
      changed = onChange;
      watching = true;
      return () => { watching = false; };
    }, { initial });
    return { feed, change: () => changed(), watching: () => watching };
  };

  it('ticks at once when asked for the current state, then once per batch of changes', async () => {
    const { feed, change } = make(true);
    expect(await feed.next()).toEqual({ value: undefined, done: false });
    change();
    change();
    change();
    expect(await feed.next()).toEqual({ value: undefined, done: false });
    let resolved = false;
    const pending = feed.next().then((r) => { resolved = true; return r; });
    await Promise.resolve();
    expect(resolved).toBe(false);
    change();
    expect(await pending).toEqual({ value: undefined, done: false });
  });

  it('ends a waiting next() and stops watching on return()', async () => {
    const { feed, watching } = make(false);
    expect(watching()).toBe(true);
    const pending = feed.next();
    await feed.return();
    expect(await pending).toEqual({ value: undefined, done: true });
    expect(watching()).toBe(false);
    expect(await feed.next()).toEqual({ value: undefined, done: true });
  });
});

describe('parseEvent', () => {
  it('accepts our two event shapes and nothing else', () => {
    expect(parseEvent(JSON.stringify({ type: 'job.updated', projectId: P1, jobId: JOB }))).toEqual({ type: 'job.updated', projectId: P1, jobId: JOB });
    expect(parseEvent(JSON.stringify({ type: 'story.updated', projectId: P1, storyId: STORY, extra: 'x' })))
      .toEqual({ type: 'story.updated', projectId: P1, storyId: STORY });
    for (const junk of ['', 'not json', 'null', '[]', JSON.stringify({ type: 'job.updated', projectId: P1 }),
      JSON.stringify({ type: 'story.updated', projectId: 'p1', storyId: STORY }), JSON.stringify({ type: 'other', projectId: P1, jobId: JOB })]) {
      expect(parseEvent(junk)).toBeUndefined();
    }
  });
});
