/**
 * What happens when work fails: an attempt that throws is retried and, out of retries, the job
 * is FAILED with a stable code; an attempt whose worker died expires and is retried; one that
 * expires on its last try is dead-lettered and FAILED (TIMED_OUT).
 */
import PgBoss from 'pg-boss';
import { loadConfig } from '../../src/config';
import { QUEUE_SCHEMA } from '../../src/queue/queue-schema';
import { Logger } from '../../src/util/logger';
import { startGenerationWorkers } from '../../src/workers/generation-workers';
import { JobRunner } from '../../src/workers/job-runner';
import { GenerationApi, startGenerationApi } from '../support/generation-harness';
import { createCharacter, createStory, decodeId } from '../support/fixtures';

async function setup(env: Record<string, string>, workers: number) {
  const api = await startGenerationApi({ workers, env });
  const key = (await api.createProject('Failures')).secret;
  const hero = await createCharacter(api, key, 'Hero', { seed: 5 });
  const story = await createStory(api, key, { title: 'S', characterIds: [hero.id], steps: 2, script: 'Hero waving' });
  return { api, key, hero, story };
}

/** A worker that takes the queue entry and dies: the entry stays active until it expires. */
async function abandon(api: GenerationApi, queueJobId: string): Promise<void> {
  const boss = new PgBoss({ connectionString: api.db.url, schema: QUEUE_SCHEMA, migrate: false, supervise: false, schedule: false, max: 1 });
  await boss.start();
  for (;;) {
    const [job] = await boss.fetch('generate.story-world');
    if (job?.id === queueJobId) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await boss.stop({ graceful: false });
}

// Expiry and retries take real seconds (a 10 s expiry, maintenance every second, backoff).
jest.setTimeout(240_000);

describe('worker failures', () => {
  it('retries a failing attempt, then fails the job with GENERATION_FAILED and the last error', async () => {
    const { api, key, story, hero } = await setup({ STORYFORGE_JOB_RETRIES: '1' }, 1);
    try {
      // A broken anchor recipe (no seeds) makes the engine refuse every attempt.
      const started = await api.gql(`mutation($s: ID!) { generateStory(storyId: $s) { job { id } } }`, { s: story.id }, key);
      await api.db.owner.query(`UPDATE character_anchors SET recipe = jsonb_set(recipe, '{seeds}', '[]') WHERE character_id = $1`, [decodeId(hero.id)]);
      const job = await api.waitForJob(started.data.generateStory.job.id, key);
      expect(job).toMatchObject({ status: 'FAILED', attempts: 2, error: { code: 'GENERATION_FAILED' } });
      expect(job.error.message).toMatch(/one seed per identity prompt/);
      const { rows } = await api.db.owner.query(`SELECT count(*)::int AS n FROM renders`);
      expect(rows[0].n).toBe(0);
    } finally {
      await api.close();
    }
  });

  it('retries an attempt whose worker died once it expires, and completes the job once', async () => {
    // 30 s: enough for a fresh compute thread to open the pack and render, so the live attempt does not expire too.
    const { api, key, story } = await setup({ STORYFORGE_JOB_EXPIRE_SECONDS: '30', STORYFORGE_JOB_RETRIES: '2' }, 0);
    try {
      const started = await api.gql(`mutation($s: ID!) { generateStory(storyId: $s) { job { id } } }`, { s: story.id }, key);
      const { rows: [row] } = await api.db.owner.query(`SELECT queue_job_id FROM generation_jobs WHERE id = $1`, [decodeId(started.data.generateStory.job.id)]);
      await abandon(api, row.queue_job_id);
      // Now a live worker joins; it gets the entry once the dead attempt has expired.
      const quiet = new Logger('error', {}, () => undefined);
      const workers = await startGenerationWorkers({ ...loadConfig({ STORYFORGE_DATA_DIR: api.dataDir }), workers: 1 }, api.db.dataSource, api.generation, quiet);
      try {
        const job = await api.waitForJob(started.data.generateStory.job.id, key);
        expect(job).toMatchObject({ status: 'SUCCEEDED', error: null });
        // The dead attempt was retried (on a loaded machine a slow live attempt may expire too: still one render).
        const { rows } = await api.db.owner.query(`SELECT state, retry_count FROM pgboss.job WHERE id = $1`, [row.queue_job_id]);
        expect(rows[0].state).toBe('completed');
        expect(rows[0].retry_count).toBeGreaterThanOrEqual(1);
        const renders = await api.db.owner.query(`SELECT count(*)::int AS n FROM renders`);
        expect(renders.rows[0].n).toBe(1);
      } finally {
        await workers.stop(1000);
      }
    } finally {
      await api.close();
    }
  });

  it('dead-letters an attempt that expires on its last try: the job is FAILED with TIMED_OUT', async () => {
    // No compute threads: only the dead-letter handler runs (as every worker process runs it).
    const { api, key, story } = await setup({ STORYFORGE_JOB_EXPIRE_SECONDS: '10', STORYFORGE_JOB_RETRIES: '0' }, 0);
    try {
      const runner = new JobRunner({ dataSource: api.db.dataSource } as ConstructorParameters<typeof JobRunner>[0]);
      await api.generation.queue.workDeadLetters((message, reason) => runner.deadLetter(message, reason));
      const started = await api.gql(`mutation($s: ID!) { generateStory(storyId: $s) { job { id } } }`, { s: story.id }, key);
      const { rows: [row] } = await api.db.owner.query(`SELECT queue_job_id FROM generation_jobs WHERE id = $1`, [decodeId(started.data.generateStory.job.id)]);
      await abandon(api, row.queue_job_id);
      const job = await api.waitForJob(started.data.generateStory.job.id, key);
      expect(job).toMatchObject({ status: 'FAILED', error: { code: 'TIMED_OUT' } });
    } finally {
      await api.close();
    }
  });
});
