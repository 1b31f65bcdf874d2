import type { Character } from '../../db/entities/character.entity';
import type { CharacterInput } from '../../domain/characters/character.service';
import type { RequestContext } from '../context';
import { fromGlobalId, fromObjectId, toGlobalId, toObjectId } from '../global-id';
import type { ReferenceImage } from '../../db/entities/reference-image.entity';
import { cropOf } from '../../domain/characters/reference-images';
import type { CropBox } from '../../images/reference-pictures';
import { toConnection } from './connection';
import { imageUrl } from '../image-urls';

export const characterResolvers = {
  Query: {
    characters: async (_: unknown, args: { first?: number; after?: string; search?: string }, ctx: RequestContext) => {
      ctx.require('viewer');
      return toConnection(await ctx.services.characters.list(ctx.session, args));
    },
  },

  Mutation: {
    createCharacter: async (_: unknown, args: { input: CharacterInput }, ctx: RequestContext) => {
      ctx.require('editor');
      const character = await ctx.services.characters.create(ctx.session, args.input);
      ctx.wrote();
      return character;
    },
    updateCharacter: async (_: unknown, args: { id: string; input: CharacterInput }, ctx: RequestContext) => {
      ctx.require('editor');
      const character = await ctx.services.characters.update(ctx.session, fromGlobalId(args.id, 'Character', 'id'), args.input);
      ctx.wrote();
      return character;
    },
    addReferenceImages: async (_: unknown, args: { characterId: string; images: { uploadId: string; crop?: CropBox | null }[] }, ctx: RequestContext) => {
      ctx.require('editor');
      const items = args.images.map((i, k) => ({ imageId: fromGlobalId(i.uploadId, 'Image', `images[${k}].uploadId`), crop: i.crop ?? null }));
      const character = await ctx.services.referenceImages.add(ctx.session, fromGlobalId(args.characterId, 'Character', 'characterId'), items);
      ctx.wrote();
      return character;
    },
    removeReferenceImage: async (_: unknown, args: { characterId: string; referenceImageId: string }, ctx: RequestContext) => {
      ctx.require('editor');
      const character = await ctx.services.referenceImages.remove(ctx.session, fromGlobalId(args.characterId, 'Character', 'characterId'),
        fromObjectId(args.referenceImageId, 'ReferenceImage', 'referenceImageId'));
      ctx.wrote();
      return character;
    },
    deleteCharacter: async (_: unknown, args: { id: string }, ctx: RequestContext) => {
      ctx.require('editor');
      await ctx.services.characters.delete(ctx.session, fromGlobalId(args.id, 'Character', 'id'));
      ctx.wrote();
      return { deletedId: args.id };
    },
  },

  Character: {
    id: (c: Character) => toGlobalId('Character', c.id),
    consistency: (c: Character) => ({ identityFrames: c.identityFrames, samplingRate: c.samplingRate }),
    referenceImages: (c: Character, _: unknown, ctx: RequestContext) => (c.referenceImageSetId ? ctx.loaders.referenceImages.load(c.referenceImageSetId) : []),
  },

  ReferenceImage: {
    id: (r: ReferenceImage) => toObjectId('ReferenceImage', r.id),
    url: (r: ReferenceImage, _: unknown, ctx: RequestContext) => imageUrl(ctx, r.projectId, r.imageId),
    image: (r: ReferenceImage, _: unknown, ctx: RequestContext) => ctx.loaders.image.load(r.imageId),
    crop: cropOf,
  },
};
