import type { Webhook } from '../../db/entities/webhook.entity';
import type { WebhookDelivery } from '../../db/entities/webhook-delivery.entity';
import type { RequestContext } from '../context';
import { fromGlobalId, toGlobalId } from '../global-id';
import { toConnection } from './connection';

/** Webhooks are the project's integration settings: every field and operation needs an admin key. */
export const webhookResolvers = {
  WebhookEvent: { JOB_SUCCEEDED: 'job.succeeded', JOB_FAILED: 'job.failed', JOB_CANCELLED: 'job.cancelled', STORY_UPDATED: 'story.updated' },

  Query: {
    webhooks: async (_: unknown, args: { first?: number; after?: string }, ctx: RequestContext) => {
      ctx.require('admin');
      return toConnection(await ctx.services.webhooks.list(ctx.session, args));
    },
  },

  Mutation: {
    createWebhook: async (_: unknown, args: { input: { url: string; events: string[] } }, ctx: RequestContext) => {
      const actor = ctx.require('admin');
      const created = await ctx.services.webhooks.create(ctx.session, actor, args.input);
      ctx.wrote();
      return created;
    },
    deleteWebhook: async (_: unknown, args: { id: string }, ctx: RequestContext) => {
      ctx.require('admin');
      await ctx.services.webhooks.delete(ctx.session, fromGlobalId(args.id, 'Webhook', 'id'));
      ctx.wrote();
      return { deletedId: args.id };
    },
  },

  Webhook: {
    id: (w: Webhook) => toGlobalId('Webhook', w.id),
    deliveries: async (w: Webhook, args: { first?: number; after?: string }, ctx: RequestContext) => {
      ctx.require('admin');
      return toConnection(await ctx.services.webhooks.deliveries(ctx.session, w.id, args));
    },
  },

  WebhookDelivery: {
    id: (d: WebhookDelivery) => toGlobalId('WebhookDelivery', d.id),
    succeeded: (d: WebhookDelivery) => d.error === null,
  },
};
