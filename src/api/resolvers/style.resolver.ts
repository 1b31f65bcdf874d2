import type { ResolvedStyle, StyleInput } from '../../domain/styles/style.service';
import type { RequestContext } from '../context';
import { fromObjectId, toObjectId } from '../global-id';

export const styleResolvers = {
  Query: {
    styles: (_: unknown, __: unknown, ctx: RequestContext) => {
      ctx.require('viewer');
      return ctx.services.styles.list(ctx.session);
    },
  },

  Mutation: {
    createStyle: async (_: unknown, args: { input: StyleInput }, ctx: RequestContext) => {
      ctx.require('editor');
      const style = await ctx.services.styles.create(ctx.session, args.input);
      ctx.wrote();
      return style;
    },
    deleteStyle: async (_: unknown, args: { id: string }, ctx: RequestContext) => {
      ctx.require('editor');
      await ctx.services.styles.delete(ctx.session, fromObjectId(args.id, 'Style', 'id'));
      ctx.wrote();
      return { deletedId: args.id };
    },
  },

  Style: {
    id: (s: ResolvedStyle) => (s.id ? toObjectId('Style', s.id) : null),
    builtIn: (s: ResolvedStyle) => s.id === null,
  },
};
