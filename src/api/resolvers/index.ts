import type { Resolvers } from '../generated/resolver-types';
import { characterResolvers } from './character.resolver';
import { comicResolvers } from './comic.resolver';
import { frameResolvers } from './frame.resolver';
import { jobResolvers } from './job.resolver';
import { modelResolvers } from './model.resolver';
import { nodeResolvers } from './node.resolver';
import { projectResolvers } from './project.resolver';
import { DateTime, JSONScalar } from './scalars';
import { storyResolvers } from './story.resolver';
import { styleResolvers } from './style.resolver';
import { subscriptionResolvers } from './subscription.resolver';
import { webhookResolvers } from './webhook.resolver';

/** Merged by makeExecutableSchema. */
export const resolvers: Resolvers[] = [
  { DateTime, JSON: JSONScalar },
  nodeResolvers, projectResolvers, characterResolvers, storyResolvers, comicResolvers, frameResolvers, jobResolvers, modelResolvers, styleResolvers, subscriptionResolvers, webhookResolvers,
];
