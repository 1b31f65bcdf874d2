import type { ApiKey } from '../../db/entities/api-key.entity';
import type { Project } from '../../db/entities/project.entity';
import { notFound } from '../../domain/common/errors';
import type { RequestContext } from '../context';
import { fromGlobalId, toGlobalId } from '../global-id';
import { toConnection } from './connection';

export const projectResolvers = {
  Role: { ADMIN: 'admin', EDITOR: 'editor', VIEWER: 'viewer' },

  Query: {
    viewer: (_: unknown, __: unknown, ctx: RequestContext) => ({ actor: ctx.actor }),
    apiKeys: async (_: unknown, args: { first?: number; after?: string }, ctx: RequestContext) => {
      ctx.require('admin');
      return toConnection(await ctx.services.apiKeys.list(ctx.session, args));
    },
  },

  Mutation: {
    createProject: async (_: unknown, args: { input: { name: string } }, ctx: RequestContext) => {
      ctx.requirePlatform();
      return ctx.services.projects.create(args.input);
    },
    createApiKey: async (_: unknown, args: { input: { name: string; role: string } }, ctx: RequestContext) => {
      const actor = ctx.require('admin');
      const created = await ctx.services.apiKeys.create(ctx.session, actor, args.input);
      ctx.wrote();
      return created;
    },
    revokeApiKey: async (_: unknown, args: { id: string }, ctx: RequestContext) => {
      ctx.require('admin');
      const revoked = await ctx.services.apiKeys.revoke(ctx.session, fromGlobalId(args.id, 'ApiKey', 'id'));
      ctx.wrote();
      return revoked;
    },
  },

  Viewer: {
    project: async ({ actor }: { actor: RequestContext['actor'] }, _: unknown, ctx: RequestContext) =>
      (await ctx.loaders.project.load(actor.projectId)) ?? Promise.reject(notFound('project', 'project')),
    role: ({ actor }: { actor: RequestContext['actor'] }) => actor.role,
    apiKey: async ({ actor }: { actor: RequestContext['actor'] }, _: unknown, ctx: RequestContext) =>
      (await ctx.loaders.apiKey.load(actor.keyId)) ?? Promise.reject(notFound('apiKey', 'API key')),
  },

  Project: { id: (p: Project) => toGlobalId('Project', p.id) },
  ApiKey: { id: (k: ApiKey) => toGlobalId('ApiKey', k.id) },
};
