import { MigrationInterface, QueryRunner } from 'typeorm';
import { APP_ROLE } from '../src/db/app-role';

const TENANT = `nullif(current_setting('app.project_id', true), '')::uuid`;

/**
 * image_file_deletions: the stored files of deleted image rows, waiting for the image janitor
 * (src/storage/image-janitor.ts) to remove them after a short grace period. A trigger on images
 * writes them, so every way an image row goes (a story's or a frame's delete, a project's
 * cascade) queues its file in the same transaction: rolled back, nothing is queued; committed,
 * nothing is forgotten. Image URLs stop working when the row goes (the image route reads it);
 * the file only waits because files are content-addressed and a render being saved at that
 * moment may be about to use the same one (the janitor checks for that).
 * No foreign key to projects: a deleted project's files must still be removed. The app role may
 * only insert (through the trigger); the janitor works as the login role.
 */
export class ImageFileDeletions1764800000000 implements MigrationInterface {
  name = 'ImageFileDeletions1764800000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE image_file_deletions (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      project_id uuid NOT NULL,
      content_hash char(64) NOT NULL,
      storage_key varchar(500) NOT NULL,
      deleted_at timestamptz NOT NULL DEFAULT now()
    )`);
    await q.query(`CREATE INDEX image_file_deletions_deleted_idx ON image_file_deletions (deleted_at)`);
    await q.query(`GRANT INSERT ON image_file_deletions TO ${APP_ROLE}`);
    await q.query(`ALTER TABLE image_file_deletions ENABLE ROW LEVEL SECURITY`);
    await q.query(`CREATE POLICY tenant_isolation ON image_file_deletions
      USING (project_id = ${TENANT}) WITH CHECK (project_id = ${TENANT})`);
    await q.query(`CREATE FUNCTION queue_image_file_deletion() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO image_file_deletions (project_id, content_hash, storage_key) VALUES (OLD.project_id, OLD.content_hash, OLD.storage_key);
        RETURN NULL;
      END $$`);
    await q.query(`CREATE TRIGGER images_queue_file_deletion AFTER DELETE ON images
      FOR EACH ROW EXECUTE FUNCTION queue_image_file_deletion()`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER images_queue_file_deletion ON images`);
    await q.query(`DROP FUNCTION queue_image_file_deletion()`);
    await q.query(`DROP TABLE image_file_deletions`);
  }
}
