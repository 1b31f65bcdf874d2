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
export async function follow<T>(ctx: RequestContext, options: FollowOptions<T>): Promise<AsyncGenerator<T>> {
  const { kind, id, load, field, what, isLast } = options;
  if (!(await load())) throw notFound(field, what);
  const feed = ctx.services.live.feed(kind, id, ctx.actor.projectId);
  return (async function* stream() {
    try {
      for await (const _change of feed) {
        const current = await load();
        if (current === undefined) return;
        yield current;
        if (isLast?.(current)) return;
      }
    } finally {
      await feed.return();
    }
  })();
}
