import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A job may draw several variations of a frame (consecutive seeds): a render is unique per job,
 * frame and variation, so a retried job still never draws one twice.
 */
export class RenderVariations1765100000000 implements MigrationInterface {
  name = 'RenderVariations1765100000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE renders ADD COLUMN variation int NOT NULL DEFAULT 0 CHECK (variation >= 0)`);
    await q.query(`DROP INDEX renders_job_frame_key`);
    await q.query(`CREATE UNIQUE INDEX renders_job_frame_key ON renders (job_id, frame_id, variation) WHERE job_id IS NOT NULL`);
  }

  public async down(q: QueryRunner): Promise<void> {
    // One render per job and frame again: the extra variations cannot stay.
    await q.query(`DELETE FROM renders WHERE variation > 0 AND job_id IS NOT NULL`);
    await q.query(`DROP INDEX renders_job_frame_key`);
    await q.query(`CREATE UNIQUE INDEX renders_job_frame_key ON renders (job_id, frame_id) WHERE job_id IS NOT NULL`);
    await q.query(`ALTER TABLE renders DROP COLUMN variation`);
  }
}
