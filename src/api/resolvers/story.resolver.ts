import { Frame } from '../../db/entities/frame.entity';
import { SCHEDULER_NAMES } from '../../engine/schedulers';
import type { FrameWarning } from '../../domain/prompts/prompt-preview';
import type { Resolvers } from '../generated/resolver-types';
import { fromGlobalId, fromGlobalIds, toGlobalId } from '../global-id';
import { toConnection } from './connection';
import { deleted, mutation } from './mutation';

function withCastIds<T extends { characterIds?: string[] | null }>(input: T) {
  return { ...input, characterIds: input.characterIds ? fromGlobalIds(input.characterIds, 'Character', 'characterIds') : input.characterIds };
}

/** Warnings as the API shows them: frames by their global IDs. */
export function withFrameIds(warnings: FrameWarning[]) {
  return warnings.map((w) => ({ ...w, frameId: toGlobalId('Frame', w.frameId) }));
}

export const storyResolvers: Resolvers = {
  // The engine's names, upper-cased: one vocabulary from the manifest to the API.
  Scheduler: Object.fromEntries(SCHEDULER_NAMES.map((name) => [name.toUpperCase(), name])),

  Query: {
    stories: async (_, args, ctx) => {
      ctx.require('viewer');
      return toConnection(await ctx.services.stories.list(ctx.session, args));
    },
  },

  Mutation: {
    createStory: mutation('editor', ({ input }, ctx) => ctx.services.stories.create(ctx.session, withCastIds(input))),
    updateStory: mutation('editor', ({ id, input }, ctx) => ctx.services.stories.update(ctx.session, fromGlobalId(id, 'Story', 'id'), withCastIds(input))),
    deleteStory: mutation('editor', ({ id }, ctx) => ctx.services.stories.delete(ctx.session, fromGlobalId(id, 'Story', 'id')), deleted),
  },

  Story: {
    id: (s) => toGlobalId('Story', s.id),
    characters: (s, _, ctx) => ctx.loaders.cast.load(s.id),
    frames: async (s, args, ctx) => toConnection(await ctx.loaders.framePage.load({ storyId: s.id, first: args.first, after: args.after })),
    promptWarnings: async (s, _, ctx) => {
      const frames = await ctx.session.rows(Frame, `SELECT * FROM frames WHERE story_id = $1 ORDER BY position`, [s.id]);
      return withFrameIds(await ctx.services.prompts.warnings(ctx.session, s, frames, await ctx.loaders.cast.load(s.id)));
    },
  },
};
