import { MigrationInterface, QueryRunner } from 'typeorm';
import { APP_ROLE } from '../src/db/app-role';

const TENANT = `nullif(current_setting('app.project_id', true), '')::uuid`;

/**
 * story_pages: comic pages and whole-story downloads drawn on demand, kept as a cache keyed by
 * their content (the frames' captions and current renders, the layout options). Each row is one
 * stored file (a page's PNG or WebP, or the story's PDF or CBZ) under a key of its own.
 *
 * The cache is dropped by triggers whenever what it shows changes: a frame added, edited, moved
 * or deleted, a render saved, deleted or made current, the story's title or seed changed. A
 * dropped row queues its file for the image janitor (image_file_deletions), as an image row does.
 */
export class StoryPages1765400000000 implements MigrationInterface {
  name = 'StoryPages1765400000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE story_pages (
      id uuid PRIMARY KEY,
      project_id uuid NOT NULL,
      story_id uuid NOT NULL,
      cache_key char(64) NOT NULL,
      format varchar(4) NOT NULL CHECK (format IN ('png', 'webp', 'pdf', 'cbz')),
      page_index int NOT NULL CHECK (page_index >= 0),
      mime varchar(100) NOT NULL,
      width int,
      height int,
      byte_size int NOT NULL,
      content_hash char(64) NOT NULL,
      storage_key varchar(500) NOT NULL,
      panels jsonb NOT NULL DEFAULT '[]',
      created_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT story_pages_story_fkey FOREIGN KEY (story_id, project_id) REFERENCES stories (id, project_id) ON DELETE CASCADE,
      CONSTRAINT story_pages_entry_key UNIQUE (story_id, cache_key, format, page_index)
    )`);
    await q.query(`GRANT SELECT, INSERT, DELETE ON story_pages TO ${APP_ROLE}`);
    await q.query(`ALTER TABLE story_pages ENABLE ROW LEVEL SECURITY`);
    await q.query(`CREATE POLICY tenant_isolation ON story_pages USING (project_id = ${TENANT}) WITH CHECK (project_id = ${TENANT})`);
    await q.query(`CREATE TRIGGER story_pages_queue_file_deletion AFTER DELETE ON story_pages
      FOR EACH ROW EXECUTE FUNCTION queue_image_file_deletion()`);

    await q.query(`CREATE FUNCTION drop_story_pages() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE story uuid;
      BEGIN
        IF TG_TABLE_NAME = 'renders' THEN
          SELECT f.story_id INTO story FROM frames f WHERE f.id = COALESCE(NEW.frame_id, OLD.frame_id);
        ELSIF TG_TABLE_NAME = 'frames' THEN
          story := COALESCE(NEW.story_id, OLD.story_id);
        ELSE
          story := COALESCE(NEW.id, OLD.id);
        END IF;
        IF story IS NOT NULL THEN
          DELETE FROM story_pages WHERE story_id = story;
        END IF;
        RETURN NULL;
      END $$`);
    await q.query(`CREATE TRIGGER frames_drop_story_pages AFTER INSERT OR UPDATE OR DELETE ON frames
      FOR EACH ROW EXECUTE FUNCTION drop_story_pages()`);
    await q.query(`CREATE TRIGGER renders_drop_story_pages AFTER INSERT OR DELETE OR UPDATE OF is_current ON renders
      FOR EACH ROW EXECUTE FUNCTION drop_story_pages()`);
    await q.query(`CREATE TRIGGER stories_drop_story_pages AFTER UPDATE OF title, seed ON stories
      FOR EACH ROW EXECUTE FUNCTION drop_story_pages()`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER stories_drop_story_pages ON stories`);
    await q.query(`DROP TRIGGER renders_drop_story_pages ON renders`);
    await q.query(`DROP TRIGGER frames_drop_story_pages ON frames`);
    await q.query(`DROP FUNCTION drop_story_pages()`);
    await q.query(`DROP TABLE story_pages`);
  }
}
