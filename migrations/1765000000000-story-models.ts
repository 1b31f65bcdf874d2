import { MigrationInterface, QueryRunner } from 'typeorm';
import { APP_ROLE } from '../src/db/app-role';

/**
 * The model becomes the story's choice: a story renders with one pack (stories.model), and a
 * character is drawn by whichever pack its story uses (its banks are per anchor version and
 * model already, in character_anchors), so characters.model goes. Existing stories keep the
 * pack every story rendered with until now.
 *
 * Schedulers get one vocabulary, the engine's (euler_a becomes euler_ancestral).
 *
 * Renders keep what their prompt lost (prompt_warnings). Worker processes say they are alive
 * and which packs they serve (workers): not tenant data, read by every API process.
 */
export class StoryModels1765000000000 implements MigrationInterface {
  name = 'StoryModels1765000000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE stories ADD COLUMN model varchar(100) NOT NULL DEFAULT 'story-world'`);
    await q.query(`ALTER TABLE stories ALTER COLUMN model DROP DEFAULT`);
    await q.query(`ALTER TABLE characters DROP COLUMN model`);

    await q.query(`ALTER TABLE stories DROP CONSTRAINT stories_scheduler_check`);
    await q.query(`UPDATE stories SET scheduler = 'euler_ancestral' WHERE scheduler = 'euler_a'`);
    await q.query(`ALTER TABLE stories ADD CONSTRAINT stories_scheduler_check CHECK (scheduler IN ('ddim', 'euler_ancestral', 'dpmpp_2m'))`);

    await q.query(`ALTER TABLE renders ADD COLUMN prompt_warnings jsonb NOT NULL DEFAULT '[]'`);

    await q.query(`CREATE TABLE workers (
      id uuid PRIMARY KEY,
      host varchar(255) NOT NULL,
      pid int NOT NULL,
      packs text[] NOT NULL,
      providers text[] NOT NULL,
      threads int NOT NULL,
      started_at timestamptz NOT NULL DEFAULT now(),
      seen_at timestamptz NOT NULL DEFAULT now()
    )`);
    // Every table has row-level security; this one holds no project's data, so the app role reads all of it and writes none.
    await q.query(`GRANT SELECT ON workers TO ${APP_ROLE}`);
    await q.query(`ALTER TABLE workers ENABLE ROW LEVEL SECURITY`);
    await q.query(`CREATE POLICY workers_readable ON workers FOR SELECT USING (true)`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE workers`);
    await q.query(`ALTER TABLE renders DROP COLUMN prompt_warnings`);
    await q.query(`ALTER TABLE stories DROP CONSTRAINT stories_scheduler_check`);
    await q.query(`UPDATE stories SET scheduler = 'euler_a' WHERE scheduler = 'euler_ancestral'`);
    await q.query(`ALTER TABLE stories ADD CONSTRAINT stories_scheduler_check CHECK (scheduler IN ('ddim', 'euler_a', 'dpmpp_2m'))`);
    await q.query(`ALTER TABLE characters ADD COLUMN model varchar(100) NOT NULL DEFAULT 'story-world'`);
    await q.query(`ALTER TABLE stories DROP COLUMN model`);
  }
}
