import type { Story } from '../../db/entities/story.entity';
import type { CreateStoryInput, UpdateStoryInput } from '../../domain/stories/story.service';
import { Frame } from '../../db/entities/frame.entity';
import { SCHEDULER_NAMES } from '../../engine/schedulers';
import type { FrameWarning } from '../../domain/prompts/prompt-preview';
import type { RequestContext } from '../context';
import { fromGlobalId, fromGlobalIds, toGlobalId } from '../global-id';
import { toConnection } from './connection';

type StoryInputArgs<T> = Omit<T, 'characterIds'> & { characterIds?: string[] | null };

function withCastIds<T extends { characterIds?: string[] | null }>(input: T) {
  return { ...input, characterIds: input.characterIds ? fromGlobalIds(input.characterIds, 'Character', 'characterIds') : input.characterIds };
}

/** Warnings as the API shows them: frames by their global IDs. */
export function withFrameIds(warnings: FrameWarning[]) {
  return warnings.map((w) => ({ ...w, frameId: toGlobalId('Frame', w.frameId) }));
}

export const storyResolvers = {
  // The engine's names, upper-cased: one vocabulary from the manifest to the API.
  Scheduler: Object.fromEntries(SCHEDULER_NAMES.map((name) => [name.toUpperCase(), name])),

  Query: {
    stories: async (_: unknown, args: { first?: number; after?: string }, ctx: RequestContext) => {
      ctx.require('viewer');
      return toConnection(await ctx.services.stories.list(ctx.session, args));
    },
  },

  Mutation: {
    createStory: async (_: unknown, args: { input: StoryInputArgs<CreateStoryInput> }, ctx: RequestContext) => {
      ctx.require('editor');
      const story = await ctx.services.stories.create(ctx.session, withCastIds(args.input));
      ctx.wrote();
      return story;
    },
    updateStory: async (_: unknown, args: { id: string; input: StoryInputArgs<UpdateStoryInput> }, ctx: RequestContext) => {
      ctx.require('editor');
      const story = await ctx.services.stories.update(ctx.session, fromGlobalId(args.id, 'Story', 'id'), withCastIds(args.input));
      ctx.wrote();
      return story;
    },
    deleteStory: async (_: unknown, args: { id: string }, ctx: RequestContext) => {
      ctx.require('editor');
      await ctx.services.stories.delete(ctx.session, fromGlobalId(args.id, 'Story', 'id'));
      ctx.wrote();
      return { deletedId: args.id };
    },
  },

  Story: {
    id: (s: Story) => toGlobalId('Story', s.id),
    characters: (s: Story, _: unknown, ctx: RequestContext) => ctx.loaders.cast.load(s.id),
    frames: async (s: Story, args: { first?: number; after?: string }, ctx: RequestContext) =>
      toConnection(await ctx.loaders.framePage.load({ storyId: s.id, first: args.first, after: args.after })),
    promptWarnings: async (s: Story, _: unknown, ctx: RequestContext) => {
      const frames = await ctx.session.rows(Frame, `SELECT * FROM frames WHERE story_id = $1 ORDER BY position`, [s.id]);
      return withFrameIds(await ctx.services.prompts.warnings(ctx.session, s, frames, await ctx.loaders.cast.load(s.id)));
    },
  },
};
