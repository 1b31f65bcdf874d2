import type { GenerationJob } from '../../db/entities/generation-job.entity';
import type { RenderJobRequest } from '../../domain/jobs/job-request';
import { jobProgress } from '../../domain/jobs/job-progress';
import type { JobKind, Resolvers } from '../generated/resolver-types';
import { fromGlobalId, fromGlobalIds, toGlobalId } from '../global-id';
import { toConnection } from './connection';
import { mutation } from './mutation';

const KINDS: Record<string, JobKind> = { anchor: 'CHARACTER_ANCHOR', story: 'STORY', frame: 'FRAME' };

export const jobResolvers: Resolvers = {
  Query: {
    jobs: async (_, args, ctx) => {
      ctx.require('viewer');
      return toConnection(await ctx.services.jobs.list(ctx.session, args));
    },
  },

  Mutation: {
    buildCharacterAnchor: mutation('editor', async ({ characterId, model }, ctx) => ({
      job: await ctx.services.jobs.buildAnchor(ctx.session, ctx.actor, fromGlobalId(characterId, 'Character', 'characterId'), model, ctx.idempotencyKey),
    })),
    generateStory: mutation('editor', async ({ storyId, frameIds, variations }, ctx) => ({
      job: await ctx.services.jobs.generateStory(ctx.session, ctx.actor, fromGlobalId(storyId, 'Story', 'storyId'),
        frameIds ? fromGlobalIds(frameIds, 'Frame', 'frameIds') : null, ctx.idempotencyKey, variations),
    })),
    regenerateFrame: mutation('editor', async ({ frameId, seed, prompt, variations }, ctx) => ({
      job: await ctx.services.jobs.regenerateFrame(ctx.session, ctx.actor, fromGlobalId(frameId, 'Frame', 'frameId'), { seed, prompt, variations }, ctx.idempotencyKey),
    })),
    cancelJob: mutation('editor', async ({ id }, ctx) => ({ job: await ctx.services.jobs.cancel(ctx.session, fromGlobalId(id, 'GenerationJob', 'id')) })),
  },

  GenerationJob: {
    id: (j) => toGlobalId('GenerationJob', j.id),
    kind: (j) => KINDS[j.kind] ?? 'STORY',
    progress: (j: GenerationJob) => jobProgress(j),
    error: (j) => (j.errorCode ? { code: j.errorCode, message: j.errorMessage ?? '' } : null),
    story: async (j, _, ctx) => (j.storyId ? ((await ctx.loaders.story.load(j.storyId)) ?? null) : null),
    frame: async (j, _, ctx) => (j.frameId ? ((await ctx.loaders.frame.load(j.frameId)) ?? null) : null),
    character: async (j, _, ctx) => (j.characterId ? ((await ctx.loaders.character.load(j.characterId)) ?? null) : null),
    renders: (j, _, ctx) => ctx.loaders.jobRenders.load(j.id),
    promptWarnings: (j) => {
      const frames = (j.request as Partial<RenderJobRequest>).frames ?? [];
      return frames.filter((f) => !f.variation).flatMap((f) => (f.promptWarnings ?? []).map((w) => ({ ...w, frameId: toGlobalId('Frame', f.frameId), position: f.position })));
    },
  },
};
