import { randomUUID } from 'node:crypto';
import type { TenantSession } from '../db/tenant-session';
import type { WebhookEvent } from '../db/entities/webhook.entity';

/** Wakes the dispatchers of every process when messages were queued (on commit). */
export const WEBHOOKS_CHANNEL = 'storyforge_webhooks';

/** Job kinds as GraphQL's JobKind names them. */
const JOB_KINDS: Record<string, string> = { anchor: 'CHARACTER_ANCHOR', story: 'STORY', frame: 'FRAME' };

const globalId = (type: string, id: string | null): string | null => (id ? Buffer.from(`${type}:${id}`).toString('base64') : null);

interface FinishedJobRow {
  webhook_id: string;
  id: string;
  kind: string;
  status: 'SUCCEEDED' | 'FAILED' | 'CANCELLED';
  story_id: string | null;
  frame_id: string | null;
  character_id: string | null;
  progress_step: number;
  progress_total: number;
  frames_done: number;
  frames_total: number;
  attempts: number;
  error_code: string | null;
  error_message: string | null;
  finished_at: Date | null;
}

/**
 * Queues `job.succeeded` / `job.failed` / `job.cancelled` for the project's webhooks that want it,
 * in the caller's transaction: the message exists exactly when the change committed. A job is
 * reported once per webhook however often its final state is published (unique dedupe key).
 * One statement, returning nothing, while the job is still queued or running.
 */
export async function queueJobWebhooks(session: TenantSession, jobId: string): Promise<void> {
  const rows = await session.query<FinishedJobRow>(
    `SELECT w.id AS webhook_id, j.id, j.kind, j.status, j.story_id, j.frame_id, j.character_id, j.progress_step, j.progress_total,
            j.frames_done, j.frames_total, j.attempts, j.error_code, j.error_message, j.finished_at
     FROM generation_jobs j
     JOIN webhooks w ON w.project_id = j.project_id AND w.events @> ARRAY['job.' || lower(j.status)]::varchar[]
     WHERE j.id = $1 AND j.status IN ('SUCCEEDED', 'FAILED', 'CANCELLED')`, [jobId]);
  const job = rows[0];
  if (!job) return;
  const event = `job.${job.status.toLowerCase()}` as WebhookEvent;
  await queue(session, rows.map((r) => r.webhook_id), event, `job:${job.id}:${job.status}`, {
    job: {
      id: globalId('GenerationJob', job.id),
      kind: JOB_KINDS[job.kind] ?? job.kind,
      status: job.status,
      progress: { step: job.progress_step, total: job.progress_total, framesDone: job.frames_done, framesTotal: job.frames_total },
      attempts: job.attempts,
      error: job.error_code ? { code: job.error_code, message: job.error_message ?? '' } : null,
      storyId: globalId('Story', job.story_id),
      frameId: globalId('Frame', job.frame_id),
      characterId: globalId('Character', job.character_id),
      finishedAt: job.finished_at ? new Date(job.finished_at).toISOString() : null,
    },
  });
}

/** Queues `story.updated` for the project's webhooks that want it, in the caller's transaction. */
export async function queueStoryWebhooks(session: TenantSession, storyId: string): Promise<void> {
  const rows = await session.query<{ id: string }>(
    `SELECT id FROM webhooks WHERE project_id = $1 AND events @> ARRAY['story.updated']::varchar[]`, [session.projectId]);
  if (rows.length === 0) return;
  await queue(session, rows.map((r) => r.id), 'story.updated', null, { story: { id: globalId('Story', storyId) } });
}

async function queue(session: TenantSession, webhookIds: string[], event: WebhookEvent, dedupeKey: string | null, data: Record<string, unknown>): Promise<void> {
  const eventId = randomUUID();
  // The body is fixed here, as text: every attempt sends (and signs) exactly these bytes.
  const body = JSON.stringify({ id: eventId, type: event, createdAt: new Date().toISOString(), projectId: globalId('Project', session.projectId), data });
  const inserted = await session.query(
    `INSERT INTO webhook_messages (project_id, webhook_id, event, event_id, dedupe_key, body)
     SELECT $1, w, $3, $4, $5, $6 FROM unnest($2::uuid[]) AS w
     ON CONFLICT (webhook_id, dedupe_key) DO NOTHING RETURNING id`,
    [session.projectId, webhookIds, event, eventId, dedupeKey, body]);
  if (inserted.length > 0) await session.query(`SELECT pg_notify($1, '')`, [WEBHOOKS_CHANNEL]);
}
