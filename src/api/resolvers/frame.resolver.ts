import type { Frame } from '../../db/entities/frame.entity';
import type { Image } from '../../db/entities/image.entity';
import type { Render } from '../../db/entities/render.entity';
import { notFound } from '../../domain/common/errors';
import type { UpdateFrameInput } from '../../domain/frames/frame.service';
import type { RequestContext } from '../context';
import { imageUrl } from '../image-urls';
import { fromGlobalId, fromGlobalIds, toGlobalId } from '../global-id';
import { toConnection } from './connection';
import { setCurrentRender } from '../../domain/renders/render-writer';
import { withFrameIds } from './story.resolver';

const VARIANTS = { PNG: 'imageId', WEBP: 'webpImageId', THUMBNAIL: 'thumbnailImageId' } as const;

type UpdateFrameArgs = Omit<UpdateFrameInput, 'characterIds'> & { characterIds?: string[] | null };

async function required<T>(value: Promise<T | undefined>, what: string): Promise<T> {
  const found = await value;
  if (!found) throw notFound(what, what);
  return found;
}

export const frameResolvers = {
  Mutation: {
    addFrames: async (_: unknown, args: { storyId: string; script: string; position?: number | null }, ctx: RequestContext) => {
      ctx.require('editor');
      const storyId = fromGlobalId(args.storyId, 'Story', 'storyId');
      const frames = await ctx.services.frames.add(ctx.session, storyId, args.script, args.position);
      ctx.wrote();
      const story = await required(ctx.loaders.story.load(storyId), 'story');
      return { story, frames, warnings: withFrameIds(await ctx.services.prompts.warnings(ctx.session, story, frames, await ctx.loaders.cast.load(storyId))) };
    },
    updateFrame: async (_: unknown, args: { id: string; input: UpdateFrameArgs }, ctx: RequestContext) => {
      ctx.require('editor');
      const { characterIds, ...rest } = args.input;
      const input: UpdateFrameInput = { ...rest };
      if (characterIds !== undefined) {
        input.characterIds = characterIds === null ? null : fromGlobalIds(characterIds, 'Character', 'characterIds');
      }
      const frame = await ctx.services.frames.update(ctx.session, fromGlobalId(args.id, 'Frame', 'id'), input);
      ctx.wrote();
      return frame;
    },
    moveFrame: async (_: unknown, args: { id: string; position: number }, ctx: RequestContext) => {
      ctx.require('editor');
      const frame = await ctx.services.frames.move(ctx.session, fromGlobalId(args.id, 'Frame', 'id'), args.position);
      ctx.wrote();
      return frame;
    },
    setCurrentRender: async (_: unknown, args: { frameId: string; renderId: string }, ctx: RequestContext) => {
      ctx.require('editor');
      const frameId = fromGlobalId(args.frameId, 'Frame', 'frameId');
      await setCurrentRender(ctx.session, frameId, fromGlobalId(args.renderId, 'Render', 'renderId'));
      ctx.wrote();
      return required(ctx.loaders.frame.load(frameId), 'frame');
    },
    deleteFrame: async (_: unknown, args: { id: string }, ctx: RequestContext) => {
      ctx.require('editor');
      await ctx.services.frames.delete(ctx.session, fromGlobalId(args.id, 'Frame', 'id'));
      ctx.wrote();
      return { deletedId: args.id };
    },
  },

  Frame: {
    id: (f: Frame) => toGlobalId('Frame', f.id),
    story: (f: Frame, _: unknown, ctx: RequestContext) => required(ctx.loaders.story.load(f.storyId), 'story'),
    /** From the story's cast (one batched load for all frames), filtered to who appears. */
    characters: async (f: Frame, _: unknown, ctx: RequestContext) => {
      if (f.noCharacter) return [];
      const cast = await ctx.loaders.cast.load(f.storyId);
      return f.characterIds ? cast.filter((c) => f.characterIds!.includes(c.id)) : cast;
    },
    currentRender: (f: Frame, _: unknown, ctx: RequestContext) => ctx.loaders.currentRender.load(f.id).then((r) => r ?? null),
    renders: async (f: Frame, args: { first?: number; after?: string }, ctx: RequestContext) =>
      toConnection(await ctx.loaders.renderPage.load({ frameId: f.id, first: args.first, after: args.after })),
    promptWarnings: async (f: Frame, _: unknown, ctx: RequestContext) => {
      const story = await required(ctx.loaders.story.load(f.storyId), 'story');
      return withFrameIds(await ctx.services.prompts.warnings(ctx.session, story, [f], await ctx.loaders.cast.load(f.storyId)));
    },
  },

  Render: {
    id: (r: Render) => toGlobalId('Render', r.id),
    frame: (r: Render, _: unknown, ctx: RequestContext) => required(ctx.loaders.frame.load(r.frameId), 'frame'),
    job: async (r: Render, _: unknown, ctx: RequestContext) => (r.jobId ? ((await ctx.loaders.job.load(r.jobId)) ?? null) : null),
    /** Signed for the render's project; variants a render lacks fall back to its PNG. */
    url: (r: Render, args: { variant?: keyof typeof VARIANTS }, ctx: RequestContext) =>
      imageUrl(ctx, r.projectId, r[VARIANTS[args.variant ?? 'PNG']] ?? r.imageId),
    image: (r: Render, _: unknown, ctx: RequestContext) => required(ctx.loaders.image.load(r.imageId), 'image'),
    thumbnail: async (r: Render, _: unknown, ctx: RequestContext) =>
      r.thumbnailImageId ? ((await ctx.loaders.image.load(r.thumbnailImageId)) ?? null) : null,
    promptWarnings: (r: Render) => r.promptWarnings.map((w) => ({ ...w, frameId: toGlobalId('Frame', r.frameId) })),
    anchorVersions: (r: Render) =>
      Object.fromEntries(Object.entries(r.anchorVersions).map(([id, version]) => [toGlobalId('Character', id), version])),
  },

  Image: { id: (i: Image) => toGlobalId('Image', i.id) },
};
