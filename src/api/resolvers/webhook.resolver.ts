import type { Resolvers } from '../generated/resolver-types';
import { fromGlobalId, toGlobalId } from '../global-id';
import { toConnection } from './connection';
import { deleted, mutation } from './mutation';

/** Webhooks are the project's integration settings: every field and operation needs an admin key. */
export const webhookResolvers: Resolvers = {
  WebhookEvent: { JOB_SUCCEEDED: 'job.succeeded', JOB_FAILED: 'job.failed', JOB_CANCELLED: 'job.cancelled', STORY_UPDATED: 'story.updated' },

  Query: {
    webhooks: async (_, args, ctx) => {
      ctx.require('admin');
      return toConnection(await ctx.services.webhooks.list(ctx.session, args));
    },
  },

  Mutation: {
    createWebhook: mutation('admin', ({ input }, ctx) => ctx.services.webhooks.create(ctx.session, ctx.actor, input)),
    deleteWebhook: mutation('admin', ({ id }, ctx) => ctx.services.webhooks.delete(ctx.session, fromGlobalId(id, 'Webhook', 'id')), deleted),
  },

  Webhook: {
    id: (w) => toGlobalId('Webhook', w.id),
    deliveries: async (w, args, ctx) => {
      ctx.require('admin');
      return toConnection(await ctx.services.webhooks.deliveries(ctx.session, w.id, args));
    },
  },

  WebhookDelivery: {
    id: (d) => toGlobalId('WebhookDelivery', d.id),
    succeeded: (d) => d.error === null,
  },
};
