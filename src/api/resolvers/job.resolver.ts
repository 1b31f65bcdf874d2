import type { GenerationJob } from '../../db/entities/generation-job.entity';
import type { RenderJobRequest } from '../../domain/jobs/job-request';
import { jobProgress } from '../../domain/jobs/job-progress';
import type { RequestContext } from '../context';
import { fromGlobalId, fromGlobalIds, toGlobalId } from '../global-id';
import { toConnection } from './connection';

const KINDS: Record<string, string> = { anchor: 'CHARACTER_ANCHOR', story: 'STORY', frame: 'FRAME' };

export const jobResolvers = {
  Query: {
    jobs: async (_: unknown, args: { first?: number; after?: string; status?: string | null }, ctx: RequestContext) => {
      ctx.require('viewer');
      return toConnection(await ctx.services.jobs.list(ctx.session, args));
    },
  },

  Mutation: {
    buildCharacterAnchor: async (_: unknown, args: { characterId: string; model?: string | null }, ctx: RequestContext) => {
      const actor = ctx.require('editor');
      const job = await ctx.services.jobs.buildAnchor(ctx.session, actor, fromGlobalId(args.characterId, 'Character', 'characterId'), args.model, ctx.idempotencyKey);
      ctx.wrote();
      return { job };
    },
    generateStory: async (_: unknown, args: { storyId: string; frameIds?: string[] | null; variations?: number | null }, ctx: RequestContext) => {
      const actor = ctx.require('editor');
      const storyId = fromGlobalId(args.storyId, 'Story', 'storyId');
      const frameIds = args.frameIds ? fromGlobalIds(args.frameIds, 'Frame', 'frameIds') : null;
      const job = await ctx.services.jobs.generateStory(ctx.session, actor, storyId, frameIds, ctx.idempotencyKey, args.variations);
      ctx.wrote();
      return { job };
    },
    regenerateFrame: async (_: unknown, args: { frameId: string; seed?: number | null; prompt?: string | null; variations?: number | null }, ctx: RequestContext) => {
      const actor = ctx.require('editor');
      const job = await ctx.services.jobs.regenerateFrame(ctx.session, actor, fromGlobalId(args.frameId, 'Frame', 'frameId'),
        { seed: args.seed, prompt: args.prompt, variations: args.variations }, ctx.idempotencyKey);
      ctx.wrote();
      return { job };
    },
    cancelJob: async (_: unknown, args: { id: string }, ctx: RequestContext) => {
      ctx.require('editor');
      const job = await ctx.services.jobs.cancel(ctx.session, fromGlobalId(args.id, 'GenerationJob', 'id'));
      ctx.wrote();
      return { job };
    },
  },

  GenerationJob: {
    id: (j: GenerationJob) => toGlobalId('GenerationJob', j.id),
    kind: (j: GenerationJob) => KINDS[j.kind] ?? 'STORY',
    progress: (j: GenerationJob) => jobProgress(j),
    error: (j: GenerationJob) => (j.errorCode ? { code: j.errorCode, message: j.errorMessage ?? '' } : null),
    story: async (j: GenerationJob, _: unknown, ctx: RequestContext) => (j.storyId ? ((await ctx.loaders.story.load(j.storyId)) ?? null) : null),
    frame: async (j: GenerationJob, _: unknown, ctx: RequestContext) => (j.frameId ? ((await ctx.loaders.frame.load(j.frameId)) ?? null) : null),
    character: async (j: GenerationJob, _: unknown, ctx: RequestContext) =>
      (j.characterId ? ((await ctx.loaders.character.load(j.characterId)) ?? null) : null),
    renders: (j: GenerationJob, _: unknown, ctx: RequestContext) => ctx.loaders.jobRenders.load(j.id),
    promptWarnings: (j: GenerationJob) => {
      const frames = (j.request as Partial<RenderJobRequest>).frames ?? [];
      return frames.filter((f) => !f.variation).flatMap((f) => (f.promptWarnings ?? []).map((w) => ({ ...w, frameId: toGlobalId('Frame', f.frameId), position: f.position })));
    },
  },
};
