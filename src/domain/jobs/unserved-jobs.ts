/**
 * Jobs of a pack no live worker serves would wait in the queue forever (a pack installed on the
 * API host but on no GPU host, or every worker of it down). After `unservedSeconds` queued with
 * nobody to take them, they fail with NO_WORKER: the client hears why, and its webhook fires.
 * Runs in every API process; each job is failed once (the update only takes QUEUED jobs).
 */
import type { DataSource } from 'typeorm';
import { withTenant } from '../../db/tenant-session';
import { JobQueue, queueForPack } from '../../queue/queue';
import { workersByPack } from '../../queue/worker-registry';
import type { Logger } from '../../util/logger';
import { JobErrorCode } from './job-request';
import { recordFailure } from './job-runs';

export interface UnservedJobOptions {
  dataSource: DataSource;
  queue: JobQueue;
  unservedSeconds: number;
  heartbeatSeconds: number;
  log: Logger;
}

/** Fails the jobs queued longer than the limit whose pack has no live worker; returns their ids. */
export async function failUnservedJobs(o: UnservedJobOptions): Promise<string[]> {
  const served = await workersByPack(o.dataSource, o.heartbeatSeconds);
  const waiting: { id: string; project_id: string; pack: string; queue_job_id: string | null }[] = await o.dataSource.query(
    `SELECT id, project_id, request->>'pack' AS pack, queue_job_id FROM generation_jobs
     WHERE status = 'QUEUED' AND updated_at < now() - make_interval(secs => $1)
     ORDER BY created_at LIMIT 500`, [o.unservedSeconds]);
  const failed: string[] = [];
  for (const job of waiting) {
    if ((served.get(job.pack) ?? 0) > 0) continue;
    await withTenant(o.dataSource, job.project_id, async (s) => {
      if (job.queue_job_id) await o.queue.cancel(s, queueForPack(job.pack), job.queue_job_id);
      await recordFailure(s, job.id, null, JobErrorCode.NO_WORKER,
        `no worker serving the ${job.pack} model pack was alive for ${o.unservedSeconds} s; start one (storyforge worker with the pack under STORYFORGE_MODELS_DIR) and generate again`, true);
    });
    failed.push(job.id);
  }
  if (failed.length > 0) o.log.warn('jobs failed: no worker serves their pack', { jobs: failed.length });
  return failed;
}

/** failUnservedJobs every few seconds until stopped. */
export function startUnservedJobSweeper(o: UnservedJobOptions): { stop(): Promise<void> } {
  let round: Promise<unknown> = Promise.resolve();
  const every = Math.max(1, Math.min(30, o.unservedSeconds / 4)) * 1000;
  const timer = setInterval(() => {
    round = round.then(() => failUnservedJobs(o)).catch((error) => o.log.warn('unserved job sweep failed', { error }));
  }, every);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await round;
    },
  };
}
