import type { Story } from '../../db/entities/story.entity';
import type { RequestContext } from '../context';
import { fromGlobalId } from '../global-id';
import { follow } from './live';

/** Subscriptions over graphql-ws: tenant-checked on subscribe, current state re-read per event. */
export const subscriptionResolvers = {
  Subscription: {
    storyUpdated: {
      subscribe: async (_: unknown, args: { storyId: string }, ctx: RequestContext) => {
        ctx.require('viewer');
        const id = fromGlobalId(args.storyId, 'Story', 'storyId');
        return follow<Story>(ctx, { kind: 'story', id, load: () => ctx.loaders.story.load(id), field: 'storyId', what: 'story' });
      },
      resolve: (story: Story) => story,
    },
  },
};
