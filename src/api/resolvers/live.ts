import type { ChangeFeed } from '../../events/change-feed';
import { notFound } from '../../domain/common/errors';
import type { TopicKind } from '../../events/event-hub';
import type { RequestContext } from '../context';

export interface FollowOptions<T> {
  kind: TopicKind;
  id: string;
  /** Reads the current state through the context's loaders (a fresh transaction per event). */
  load: () => Promise<T | undefined>;
  /** For NOT_FOUND: the argument at fault and what it names. */
  field: string;
  what: string;
  /** The subscription completes after yielding a state for which this holds (a finished job). */
  isLast?: (value: T) => boolean;
}

/**
 * A subscription's source: checks now that the id is the project's (NOT_FOUND otherwise, and no
 * event ever follows), then yields the current state at once and again after each change, read
 * afresh under RLS. Completes when the object is gone or `isLast` says it is done.
 */
export async function follow<T>(ctx: RequestContext, options: FollowOptions<T>): Promise<AsyncIterableIterator<T>> {
  const { kind, id, load, field, what, isLast } = options;
  if (!(await load())) throw notFound(field, what);
  return new LiveStates(ctx.services.live.feed(kind, id, ctx.actor.projectId), load, isLast);
}

const DONE: IteratorReturnResult<undefined> = { value: undefined, done: true };

/**
 * The states of one followed object, as an iterator whose `return()` takes effect at once.
 *
 * Not an async generator on purpose: a generator waiting for the next change is suspended at an
 * `await`, and its `return()` is queued until it next reaches a `yield`, so a subscription the
 * client completed (or whose socket dropped) stayed watching until the object changed again,
 * forever for an idle story, and its socket's clean-up waited with it. Here `return()` stops the
 * feed, which ends a pending wait; a read already under way is dropped when it lands.
 */
class LiveStates<T> implements AsyncIterableIterator<T> {
  private finished = false;

  constructor(
    private readonly feed: ChangeFeed,
    private readonly load: () => Promise<T | undefined>,
    private readonly isLast?: (value: T) => boolean,
  ) {}

  async next(): Promise<IteratorResult<T, undefined>> {
    if (this.finished) return DONE;
    const tick = await this.feed.next();
    if (tick.done || this.finished) return this.finish();
    let current: T | undefined;
    try {
      current = await this.load();
    } catch (error) {
      // Closed meanwhile: the operation's context may be finished under the read.
      if (this.finished) return DONE;
      await this.finish();
      throw error;
    }
    if (this.finished || current === undefined) return this.finish();
    // The last state still goes out; the call after it answers done.
    if (this.isLast?.(current)) await this.finish();
    return { value: current, done: false };
  }

  return(): Promise<IteratorResult<T, undefined>> {
    return this.finish();
  }

  async throw(error?: unknown): Promise<IteratorResult<T, undefined>> {
    await this.finish();
    throw error;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }

  private async finish(): Promise<IteratorReturnResult<undefined>> {
    this.finished = true;
    await this.feed.return();
    return DONE;
  }
}
