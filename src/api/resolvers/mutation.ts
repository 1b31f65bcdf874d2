import type { Role } from '../../db/entities/api-key.entity';
import type { RequestContext } from '../context';

/** A Mutation field's resolver as graphql-js calls it (the root value is unused). */
export type MutationResolver<A, R> = (parent: unknown, args: A, ctx: RequestContext) => Promise<R>;

/**
 * A mutation of a project's content, in the order every one of them keeps:
 *
 * 1. the key's role, before any argument is read, so a key without it is told FORBIDDEN (or
 *    UNAUTHENTICATED without a project key) whatever it sent;
 * 2. `write`: the service call in the request's session; the service writes in a savepoint of the
 *    request's transaction, with its change notification if it has one (storyUpdated, jobUpdated,
 *    apiKeyRevoked) inside, so the notification goes out only if the write commits;
 * 3. the request's loaders are dropped: what they cached may predate the write, and a later
 *    mutation of the same operation would answer with it;
 * 4. `payload`, if given, builds the answer from what `write` returned, through fresh loaders
 *    that the response's fields then share.
 *
 * The argument and result types come from the `Resolvers` map it is placed in, so a mutation reads
 * as one expression: `mutation('editor', ({ input }, ctx) => ctx.services.styles.create(ctx.session, input))`.
 */
export function mutation<A, R>(role: Role, write: (args: A, ctx: RequestContext) => Promise<R>): MutationResolver<A, R>;
export function mutation<A, W, R>(
  role: Role,
  write: (args: A, ctx: RequestContext) => Promise<W>,
  payload: (written: W, args: A, ctx: RequestContext) => R | Promise<R>,
): MutationResolver<A, R>;
export function mutation<A, W, R>(
  role: Role,
  write: (args: A, ctx: RequestContext) => Promise<W>,
  payload?: (written: W, args: A, ctx: RequestContext) => R | Promise<R>,
): MutationResolver<A, W | R> {
  return async (_parent, args, ctx) => {
    ctx.require(role);
    const written = await write(args, ctx);
    ctx.wrote();
    return payload ? payload(written, args, ctx) : written;
  };
}

/** A delete's payload: the id as the client sent it (the row is gone, so nothing is loaded). */
export function deleted(_: unknown, args: { id: string }): { deletedId: string } {
  return { deletedId: args.id };
}
