import { MigrationInterface, QueryRunner } from 'typeorm';
import { APP_ROLE } from '../src/db/app-role';

const TENANT = `nullif(current_setting('app.project_id', true), '')::uuid`;
const BUILT_IN_NAMES = ['no style', 'japanese anime', 'cinematic', 'digital art', 'photographic', 'comic book', 'line art', 'film noir', 'isometric rooms'];

/**
 * Styles become presets (a template around the prompt and a negative prompt): built in, or a
 * project's own (styles). stories.style names one. A story whose style was free text keeps
 * rendering as before: the text becomes a project style of that name appending it to the
 * prompt. Characters lose their style: it was stored and bumped the anchor version, but no
 * render ever used it, and a character's look belongs in its description.
 *
 * Negative prompts at story and frame level; renders remember the style they were drawn in.
 */
export class StylesNegativePrompts1765200000000 implements MigrationInterface {
  name = 'StylesNegativePrompts1765200000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE styles (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
      name varchar(100) NOT NULL CHECK (length(btrim(name)) > 0),
      template text NOT NULL CHECK (position('{prompt}' in template) > 0),
      negative_prompt text NOT NULL DEFAULT '',
      families text[] NOT NULL DEFAULT '{}',
      created_at timestamptz NOT NULL DEFAULT now()
    )`);
    await q.query(`CREATE UNIQUE INDEX styles_project_name_key ON styles (project_id, lower(name))`);
    await q.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON styles TO ${APP_ROLE}`);
    await q.query(`ALTER TABLE styles ENABLE ROW LEVEL SECURITY`);
    await q.query(`CREATE POLICY tenant_isolation ON styles USING (project_id = ${TENANT}) WITH CHECK (project_id = ${TENANT})`);

    await q.query(`UPDATE stories SET style = left(btrim(style), 100) WHERE style <> btrim(style) OR length(style) > 100`);
    // The built-in names as they were when this migration was written (a story naming one keeps it).
    await q.query(`INSERT INTO styles (project_id, name, template)
      SELECT DISTINCT project_id, style, '{prompt} ' || style FROM stories
      WHERE style <> '' AND lower(style) <> ALL ($1::text[])
      ON CONFLICT DO NOTHING`, [BUILT_IN_NAMES]);

    await q.query(`ALTER TABLE characters DROP COLUMN style`);
    await q.query(`ALTER TABLE stories ADD COLUMN negative_prompt text NOT NULL DEFAULT ''`);
    await q.query(`ALTER TABLE frames ADD COLUMN negative_prompt text NOT NULL DEFAULT ''`);
    await q.query(`ALTER TABLE renders ADD COLUMN style varchar(100) NOT NULL DEFAULT ''`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE renders DROP COLUMN style`);
    await q.query(`ALTER TABLE frames DROP COLUMN negative_prompt`);
    await q.query(`ALTER TABLE stories DROP COLUMN negative_prompt`);
    await q.query(`ALTER TABLE characters ADD COLUMN style varchar(200) NOT NULL DEFAULT ''`);
    await q.query(`DROP TABLE styles`);
  }
}
