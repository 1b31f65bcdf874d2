import type { UpdateFrameInput } from '../../domain/frames/frame.service';
import { setCurrentRender } from '../../domain/renders/render-writer';
import type { Resolvers } from '../generated/resolver-types';
import { imageUrl } from '../image-urls';
import { fromGlobalId, fromGlobalIds, toGlobalId } from '../global-id';
import { toConnection } from './connection';
import { deleted, mutation } from './mutation';
import { required } from './required';
import { withFrameIds } from './story.resolver';

const VARIANTS = { PNG: 'imageId', WEBP: 'webpImageId', THUMBNAIL: 'thumbnailImageId' } as const;

export const frameResolvers: Resolvers = {
  Mutation: {
    addFrames: mutation('editor',
      async ({ storyId, script, position }, ctx) => {
        const id = fromGlobalId(storyId, 'Story', 'storyId');
        return { storyId: id, frames: await ctx.services.frames.add(ctx.session, id, script, position) };
      },
      async ({ storyId, frames }, _, ctx) => {
        const story = await required(ctx.loaders.story.load(storyId), 'story');
        return { story, frames, warnings: withFrameIds(await ctx.services.prompts.warnings(ctx.session, story, frames, await ctx.loaders.cast.load(storyId))) };
      }),
    updateFrame: mutation('editor', ({ id, input: { characterIds, ...rest } }, ctx) => {
      const input: UpdateFrameInput = { ...rest };
      if (characterIds !== undefined) {
        input.characterIds = characterIds === null ? null : fromGlobalIds(characterIds, 'Character', 'characterIds');
      }
      return ctx.services.frames.update(ctx.session, fromGlobalId(id, 'Frame', 'id'), input);
    }),
    moveFrame: mutation('editor', ({ id, position }, ctx) => ctx.services.frames.move(ctx.session, fromGlobalId(id, 'Frame', 'id'), position)),
    setCurrentRender: mutation('editor',
      async ({ frameId, renderId }, ctx) => {
        const id = fromGlobalId(frameId, 'Frame', 'frameId');
        await setCurrentRender(ctx.session, id, fromGlobalId(renderId, 'Render', 'renderId'));
        return id;
      },
      (id, _, ctx) => required(ctx.loaders.frame.load(id), 'frame')),
    deleteFrame: mutation('editor', ({ id }, ctx) => ctx.services.frames.delete(ctx.session, fromGlobalId(id, 'Frame', 'id')), deleted),
  },

  Frame: {
    id: (f) => toGlobalId('Frame', f.id),
    story: (f, _, ctx) => required(ctx.loaders.story.load(f.storyId), 'story'),
    /** From the story's cast (one batched load for all frames), filtered to who appears. */
    characters: async (f, _, ctx) => {
      if (f.noCharacter) return [];
      const cast = await ctx.loaders.cast.load(f.storyId);
      return f.characterIds ? cast.filter((c) => f.characterIds!.includes(c.id)) : cast;
    },
    currentRender: (f, _, ctx) => ctx.loaders.currentRender.load(f.id).then((r) => r ?? null),
    renders: async (f, args, ctx) => toConnection(await ctx.loaders.renderPage.load({ frameId: f.id, first: args.first, after: args.after })),
    promptWarnings: async (f, _, ctx) => {
      const story = await required(ctx.loaders.story.load(f.storyId), 'story');
      return withFrameIds(await ctx.services.prompts.warnings(ctx.session, story, [f], await ctx.loaders.cast.load(f.storyId)));
    },
  },

  Render: {
    id: (r) => toGlobalId('Render', r.id),
    frame: (r, _, ctx) => required(ctx.loaders.frame.load(r.frameId), 'frame'),
    job: async (r, _, ctx) => (r.jobId ? ((await ctx.loaders.job.load(r.jobId)) ?? null) : null),
    /** Signed for the render's project; variants a render lacks fall back to its PNG. */
    url: (r, args, ctx) => imageUrl(ctx, r.projectId, r[VARIANTS[args.variant ?? 'PNG']] ?? r.imageId),
    image: (r, _, ctx) => required(ctx.loaders.image.load(r.imageId), 'image'),
    thumbnail: async (r, _, ctx) => (r.thumbnailImageId ? ((await ctx.loaders.image.load(r.thumbnailImageId)) ?? null) : null),
    promptWarnings: (r) => r.promptWarnings.map((w) => ({ ...w, frameId: toGlobalId('Frame', r.frameId) })),
    anchorVersions: (r) => Object.fromEntries(Object.entries(r.anchorVersions).map(([id, version]) => [toGlobalId('Character', id), version])),
  },

  Image: { id: (i) => toGlobalId('Image', i.id) },
};
