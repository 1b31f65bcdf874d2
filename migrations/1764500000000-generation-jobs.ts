import { MigrationInterface, QueryRunner } from 'typeorm';
import { APP_ROLE } from '../src/db/app-role';
import { QUEUE_SCHEMA, queueSchemaPlan } from '../src/queue/queue-schema';

const NOW_MS = `date_trunc('milliseconds', now())`;
const TENANT = `nullif(current_setting('app.project_id', true), '')::uuid`;

/**
 * The job system's tables:
 * - pg-boss's schema (`pgboss`), created here from pg-boss's own construction plan, in the
 *   migration's transaction and under the migration advisory lock, together with the app role's
 *   grants. Why a migration rather than pg-boss's `start()`: request transactions run as
 *   storyforge_app and must be able to insert queue entries from the first request on, test
 *   databases (which only run migrations) get the queue too, and one schema history covers
 *   everything. pg-boss still migrates its own schema on start when a newer pg-boss needs it
 *   (its contractor, under its own lock); the default privileges below give the app role the
 *   same rights on whatever tables that adds.
 * - character_anchors: one row per (character, anchor version, model): the recipe that rebuilds the
 *   identity bank exactly (prompts, seeds, rate, CSA seed, pack, model hash) and the judge's
 *   reading of the identity frames once a build has run.
 * - renders: at most one render per (job, frame), so a retried job never renders a frame twice.
 */
export class GenerationJobs1764500000000 implements MigrationInterface {
  name = 'GenerationJobs1764500000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(queueSchemaPlan());
    await q.query(`GRANT USAGE ON SCHEMA ${QUEUE_SCHEMA} TO ${APP_ROLE}`);
    await q.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${QUEUE_SCHEMA} TO ${APP_ROLE}`);
    await q.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA ${QUEUE_SCHEMA} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${APP_ROLE}`);

    await q.query(`CREATE TABLE character_anchors (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      project_id uuid NOT NULL,
      character_id uuid NOT NULL,
      version int NOT NULL CHECK (version >= 1),
      pack varchar(100) NOT NULL,
      model_hash char(64) NOT NULL,
      recipe jsonb NOT NULL,
      identity jsonb,
      created_at timestamptz NOT NULL DEFAULT ${NOW_MS},
      CONSTRAINT character_anchors_id_project_key UNIQUE (id, project_id),
      CONSTRAINT character_anchors_character_version_key UNIQUE (character_id, version, model_hash),
      CONSTRAINT character_anchors_character_fkey FOREIGN KEY (character_id, project_id)
        REFERENCES characters (id, project_id) ON DELETE CASCADE
    )`);
    await q.query(`CREATE INDEX character_anchors_project_idx ON character_anchors (project_id)`);
    await q.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON character_anchors TO ${APP_ROLE}`);
    await q.query(`ALTER TABLE character_anchors ENABLE ROW LEVEL SECURITY`);
    await q.query(`CREATE POLICY tenant_isolation ON character_anchors
      USING (project_id = ${TENANT}) WITH CHECK (project_id = ${TENANT})`);

    await q.query(`CREATE UNIQUE INDEX renders_job_frame_key ON renders (job_id, frame_id) WHERE job_id IS NOT NULL`);
    // jobs(status:) lists a project's jobs by status, oldest first.
    await q.query(`CREATE INDEX generation_jobs_project_status_idx ON generation_jobs (project_id, status, created_at, id)`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX generation_jobs_project_status_idx`);
    await q.query(`DROP INDEX renders_job_frame_key`);
    await q.query(`DROP TABLE character_anchors`);
    await q.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA ${QUEUE_SCHEMA} REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM ${APP_ROLE}`);
    await q.query(`DROP SCHEMA ${QUEUE_SCHEMA} CASCADE`);
  }
}
