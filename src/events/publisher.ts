import type { GenerationJob } from '../db/entities/generation-job.entity';
import type { TenantSession } from '../db/tenant-session';
import { queueJobWebhooks, queueStoryWebhooks } from '../webhooks/outbox';

/** The one PostgreSQL channel every process publishes on and listens to. */
export const EVENTS_CHANNEL = 'storyforge_events';

export type StoryForgeEventType = 'job.updated' | 'story.updated' | 'key.revoked';

/**
 * What goes over the channel: ids only, never state. Listeners re-read what changed through the
 * tenant-scoped loaders, so a payload can never carry one project's data to another.
 */
export interface StoryForgeEvent {
  type: StoryForgeEventType;
  projectId: string;
  jobId?: string;
  storyId?: string;
  keyId?: string;
}

/**
 * NOTIFY inside the session's transaction: PostgreSQL delivers it to every listening process on
 * commit, and never when the transaction rolls back, so listeners only hear of committed changes.
 */
export async function publish(session: TenantSession, event: StoryForgeEvent): Promise<void> {
  await session.query(`SELECT pg_notify($1, $2)`, [EVENTS_CHANNEL, JSON.stringify(event)]);
}

/**
 * A job's status, progress or result changed. Also queues the project's webhooks once the job
 * has finished (same transaction, so they exist exactly when the change committed).
 */
export async function jobUpdated(session: TenantSession, job: Pick<GenerationJob, 'id'> & Partial<Pick<GenerationJob, 'storyId'>>): Promise<void> {
  await publish(session, {
    type: 'job.updated', projectId: session.projectId, jobId: job.id, ...(job.storyId ? { storyId: job.storyId } : {}),
  });
  await queueJobWebhooks(session, job.id);
}

/** A story, its frames or their current renders changed. Also queues the project's story.updated webhooks. */
export async function storyUpdated(session: TenantSession, storyId: string): Promise<void> {
  await publish(session, { type: 'story.updated', projectId: session.projectId, storyId });
  await queueStoryWebhooks(session, storyId);
}

/**
 * An API key was revoked: every process closes that key's open sockets at once (each re-reads the
 * key first, so a forged NOTIFY can close nothing that is still valid).
 */
export async function apiKeyRevoked(session: TenantSession, keyId: string): Promise<void> {
  await publish(session, { type: 'key.revoked', projectId: session.projectId, keyId });
}
