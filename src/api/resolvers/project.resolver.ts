import { notFound } from '../../domain/common/errors';
import type { Resolvers } from '../generated/resolver-types';
import { fromGlobalId, toGlobalId } from '../global-id';
import { toConnection } from './connection';
import { mutation } from './mutation';

export const projectResolvers: Resolvers = {
  Role: { ADMIN: 'admin', EDITOR: 'editor', VIEWER: 'viewer' },

  Query: {
    viewer: (_, __, ctx) => ctx.actor,
    apiKeys: async (_, args, ctx) => {
      ctx.require('admin');
      return toConnection(await ctx.services.apiKeys.list(ctx.session, args));
    },
  },

  Mutation: {
    // The platform key has no project: no session, no loaders to refresh.
    createProject: async (_, args, ctx) => {
      ctx.requirePlatform();
      return ctx.services.projects.create(args.input);
    },
    createApiKey: mutation('admin', ({ input }, ctx) => ctx.services.apiKeys.create(ctx.session, ctx.actor, input)),
    revokeApiKey: mutation('admin', ({ id }, ctx) => ctx.services.apiKeys.revoke(ctx.session, fromGlobalId(id, 'ApiKey', 'id'))),
  },

  Viewer: {
    project: async (actor, _, ctx) => (await ctx.loaders.project.load(actor.projectId)) ?? Promise.reject(notFound('project', 'project')),
    apiKey: async (actor, _, ctx) => (await ctx.loaders.apiKey.load(actor.keyId)) ?? Promise.reject(notFound('apiKey', 'API key')),
  },

  Project: { id: (p) => toGlobalId('Project', p.id) },
  ApiKey: { id: (k) => toGlobalId('ApiKey', k.id) },
};
