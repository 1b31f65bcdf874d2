import { cropOf } from '../../domain/characters/reference-images';
import type { Resolvers } from '../generated/resolver-types';
import { imageUrl } from '../image-urls';
import { fromGlobalId, fromObjectId, toGlobalId, toObjectId } from '../global-id';
import { toConnection } from './connection';
import { deleted, mutation } from './mutation';
import { required } from './required';

export const characterResolvers: Resolvers = {
  Query: {
    characters: async (_, args, ctx) => {
      ctx.require('viewer');
      return toConnection(await ctx.services.characters.list(ctx.session, args));
    },
  },

  Mutation: {
    createCharacter: mutation('editor', ({ input }, ctx) => ctx.services.characters.create(ctx.session, input)),
    updateCharacter: mutation('editor', ({ id, input }, ctx) =>
      ctx.services.characters.update(ctx.session, fromGlobalId(id, 'Character', 'id'), input)),
    addReferenceImages: mutation('editor', ({ characterId, images }, ctx) => {
      const items = images.map((i, k) => ({ imageId: fromGlobalId(i.uploadId, 'Image', `images[${k}].uploadId`), crop: i.crop ?? null }));
      return ctx.services.referenceImages.add(ctx.session, fromGlobalId(characterId, 'Character', 'characterId'), items);
    }),
    removeReferenceImage: mutation('editor', ({ characterId, referenceImageId }, ctx) =>
      ctx.services.referenceImages.remove(ctx.session, fromGlobalId(characterId, 'Character', 'characterId'),
        fromObjectId(referenceImageId, 'ReferenceImage', 'referenceImageId'))),
    deleteCharacter: mutation('editor', ({ id }, ctx) => ctx.services.characters.delete(ctx.session, fromGlobalId(id, 'Character', 'id')), deleted),
  },

  Character: {
    id: (c) => toGlobalId('Character', c.id),
    consistency: (c) => ({ identityFrames: c.identityFrames, samplingRate: c.samplingRate }),
    referenceImages: (c, _, ctx) => (c.referenceImageSetId ? ctx.loaders.referenceImages.load(c.referenceImageSetId) : []),
  },

  ReferenceImage: {
    id: (r) => toObjectId('ReferenceImage', r.id),
    url: (r, _, ctx) => imageUrl(ctx, r.projectId, r.imageId),
    image: (r, _, ctx) => required(ctx.loaders.image.load(r.imageId), 'image'),
    crop: cropOf,
  },
};
