import type { Character } from '../../db/entities/character.entity';
import type { CharacterInput } from '../../domain/characters/character.service';
import type { RequestContext } from '../context';
import { fromGlobalId, toGlobalId } from '../global-id';
import { toConnection } from './connection';

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
  },
};
