import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A job's progress as a person reads it: which phase it is in (identity banks, then frames), how
 * many banks of how many, how many frames render together, and one fraction for the whole job that the worker only ever raises, so
 * a progress bar never jumps back when a new phase or a retry starts its step count again.
 */
export class JobProgressPhase1765500000000 implements MigrationInterface {
  name = 'JobProgressPhase1765500000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE generation_jobs
      ADD COLUMN progress_phase varchar(10) NOT NULL DEFAULT 'QUEUED' CHECK (progress_phase IN ('QUEUED', 'IDENTITY', 'FRAMES')),
      ADD COLUMN progress_fraction real NOT NULL DEFAULT 0 CHECK (progress_fraction BETWEEN 0 AND 1),
      ADD COLUMN banks_done int NOT NULL DEFAULT 0,
      ADD COLUMN banks_total int NOT NULL DEFAULT 0,
      ADD COLUMN frames_running int NOT NULL DEFAULT 0`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE generation_jobs DROP COLUMN progress_phase, DROP COLUMN progress_fraction, DROP COLUMN banks_done, DROP COLUMN banks_total, DROP COLUMN frames_running`);
  }
}
