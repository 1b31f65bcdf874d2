import { ApiKey } from '../../db/entities/api-key.entity';
import { Character } from '../../db/entities/character.entity';
import { Frame } from '../../db/entities/frame.entity';
import { Image } from '../../db/entities/image.entity';
import { Project } from '../../db/entities/project.entity';
import { Render } from '../../db/entities/render.entity';
import { Story } from '../../db/entities/story.entity';
import { GenerationJob } from '../../db/entities/generation-job.entity';
import { Webhook } from '../../db/entities/webhook.entity';
import { WebhookDelivery } from '../../db/entities/webhook-delivery.entity';
import { notFound } from '../../domain/common/errors';
import type { Resolvers } from '../generated/resolver-types';
import { NodeType, parseGlobalId } from '../global-id';

const TYPES: [NodeType, new () => object][] = [
  ['Project', Project], ['ApiKey', ApiKey], ['Character', Character], ['Story', Story],
  ['Frame', Frame], ['Render', Render], ['Image', Image], ['GenerationJob', GenerationJob],
  ['Webhook', Webhook], ['WebhookDelivery', WebhookDelivery],
];

/** Seen by admins only; anyone else gets NOT_FOUND, as for another project's ids. */
const ADMIN_ONLY: ReadonlySet<NodeType> = new Set(['ApiKey', 'Webhook', 'WebhookDelivery']);

export const nodeResolvers: Resolvers = {
  Query: {
    /** Anything of another project, or an API key or webhook seen by a non-admin, is NOT_FOUND. */
    node: async (_, args, ctx) => {
      ctx.require('viewer');
      const { type, id } = parseGlobalId(args.id, 'id');
      const loaders = ctx.loaders;
      const found = await {
        Project: loaders.project, ApiKey: loaders.apiKey, Character: loaders.character, Story: loaders.story,
        Frame: loaders.frame, Render: loaders.render, Image: loaders.image, GenerationJob: loaders.job,
        Webhook: loaders.webhook, WebhookDelivery: loaders.webhookDelivery,
      }[type].load(id);
      if (!found || (ADMIN_ONLY.has(type) && ctx.actor.role !== 'admin')) throw notFound('id', 'node');
      return found;
    },
  },
  Node: {
    __resolveType: (obj) => TYPES.find(([, cls]) => obj instanceof cls)?.[0] ?? null,
  },
};
