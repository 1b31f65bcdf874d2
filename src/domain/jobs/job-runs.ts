/**
 * A job's life as its worker writes it: each function is one short statement (or savepoint) in
 * the worker's tenant transaction, with a change event for live updates.
 */
import { GenerationJob } from '../../db/entities/generation-job.entity';
import type { TenantSession } from '../../db/tenant-session';
import { jobUpdated } from '../../events/publisher';
import type { JobErrorCode } from './job-request';

/** Marks an attempt as running; undefined when there is nothing to do (finished, cancelled, gone). */
export async function beginAttempt(session: TenantSession, jobId: string): Promise<GenerationJob | undefined> {
  const job = await session.one(GenerationJob,
    `UPDATE generation_jobs SET status = 'RUNNING', started_at = coalesce(started_at, now()), attempts = attempts + 1,
       error_code = NULL, error_message = NULL, updated_at = now()
     WHERE id = $1 AND status IN ('QUEUED', 'RUNNING') RETURNING *`, [jobId]);
  if (job) await jobUpdated(session, job);
  return job;
}

export interface ProgressUpdate {
  phase: 'IDENTITY' | 'FRAMES';
  /** The whole job's share done; the row keeps the largest written, so it never goes back. */
  fraction: number;
  step: number;
  total: number;
  framesDone?: number;
  banksDone: number;
  banksTotal: number;
  framesRunning: number;
}

/**
 * Writes of an attempt name it (`attempt`, the job's attempts count when it began): an attempt
 * that was given up (it expired, and a retry has begun) can no longer change the job.
 */

/** False when this attempt no longer runs the job (cancelled, or superseded): the worker then stops. */
export async function reportProgress(session: TenantSession, jobId: string, attempt: number, p: ProgressUpdate): Promise<boolean> {
  const job = await session.one(GenerationJob,
    `UPDATE generation_jobs SET progress_step = $2, progress_total = $3, frames_done = coalesce($4, frames_done),
       progress_phase = $6, progress_fraction = greatest(progress_fraction, least(1, greatest(0, $7::real))),
       banks_done = $8, banks_total = $9, frames_running = $10, updated_at = now()
     WHERE id = $1 AND status = 'RUNNING' AND attempts = $5 RETURNING id, story_id`,
    [jobId, p.step, p.total, p.framesDone ?? null, attempt, p.phase, p.fraction, p.banksDone, p.banksTotal, p.framesRunning]);
  if (job) await jobUpdated(session, job);
  return job !== undefined;
}

export async function succeed(session: TenantSession, jobId: string, attempt: number, result: Record<string, unknown>): Promise<GenerationJob | undefined> {
  const job = await session.one(GenerationJob,
    `UPDATE generation_jobs SET status = 'SUCCEEDED', result = $2, progress_step = progress_total, progress_fraction = 1, finished_at = now(), updated_at = now()
     WHERE id = $1 AND status = 'RUNNING' AND attempts = $3 RETURNING *`, [jobId, result, attempt]);
  if (job) await jobUpdated(session, job);
  return job;
}

/**
 * Records a failed attempt. `final`: no retry follows, the job is FAILED; otherwise it waits for
 * its retry as QUEUED, with the error of this attempt kept for the client to see. `attempt`
 * null: whichever attempt (a dead letter, whose last worker may have died).
 */
export async function recordFailure(session: TenantSession, jobId: string, attempt: number | null, code: JobErrorCode, message: string, final: boolean): Promise<void> {
  const job = await session.one(GenerationJob,
    `UPDATE generation_jobs SET status = $2::varchar, error_code = $3, error_message = $4,
       finished_at = CASE WHEN $2::varchar = 'FAILED' THEN now() ELSE finished_at END, updated_at = now()
     WHERE id = $1 AND status IN ('QUEUED', 'RUNNING') AND ($5::int IS NULL OR attempts = $5::int) RETURNING id, story_id`,
    [jobId, final ? 'FAILED' : 'QUEUED', code, message.slice(0, 2000), attempt]);
  if (job) await jobUpdated(session, job);
}
