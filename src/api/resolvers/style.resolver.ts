import type { Resolvers } from '../generated/resolver-types';
import { fromObjectId, toObjectId } from '../global-id';
import { deleted, mutation } from './mutation';

export const styleResolvers: Resolvers = {
  Query: {
    styles: (_, __, ctx) => {
      ctx.require('viewer');
      return ctx.services.styles.list(ctx.session);
    },
  },

  Mutation: {
    createStyle: mutation('editor', ({ input }, ctx) => ctx.services.styles.create(ctx.session, input)),
    deleteStyle: mutation('editor', ({ id }, ctx) => ctx.services.styles.delete(ctx.session, fromObjectId(id, 'Style', 'id')), deleted),
  },

  Style: {
    id: (s) => (s.id ? toObjectId('Style', s.id) : null),
    builtIn: (s) => s.id === null,
  },
};
