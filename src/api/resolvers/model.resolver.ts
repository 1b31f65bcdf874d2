import type { RequestContext } from '../context';

export const modelResolvers = {
  Query: {
    models: (_: unknown, __: unknown, ctx: RequestContext) => {
      ctx.require('viewer');
      return ctx.services.models.list(ctx.session);
    },
  },
};
