import type { GenerationJob, JobStatus } from '../../db/entities/generation-job.entity';
import type { Story } from '../../db/entities/story.entity';
import type { Resolvers } from '../generated/resolver-types';
import { fromGlobalId } from '../global-id';
import { follow } from './live';

/** A job in one of these states changes no more. */
const FINISHED: ReadonlySet<JobStatus> = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);

/** Subscriptions over graphql-ws: tenant-checked on subscribe, current state re-read per event. */
export const subscriptionResolvers: Resolvers = {
  Subscription: {
    jobUpdated: {
      subscribe: async (_, args, ctx) => {
        ctx.require('viewer');
        const id = fromGlobalId(args.jobId, 'GenerationJob', 'jobId');
        return follow<GenerationJob>(ctx, {
          kind: 'job', id, load: () => ctx.loaders.job.load(id), field: 'jobId', what: 'job', isLast: (job) => FINISHED.has(job.status),
        });
      },
      // Each state the feed yields is the job itself, not a { jobUpdated } wrapper.
      resolve: (job: GenerationJob) => job,
    },
    storyUpdated: {
      subscribe: async (_, args, ctx) => {
        ctx.require('viewer');
        const id = fromGlobalId(args.storyId, 'Story', 'storyId');
        return follow<Story>(ctx, { kind: 'story', id, load: () => ctx.loaders.story.load(id), field: 'storyId', what: 'story' });
      },
      resolve: (story: Story) => story,
    },
  },
};
