import type { Resolvers } from '../generated/resolver-types';

export const modelResolvers: Resolvers = {
  Query: {
    models: (_, __, ctx) => {
      ctx.require('viewer');
      return ctx.services.models.list(ctx.session);
    },
  },
};
