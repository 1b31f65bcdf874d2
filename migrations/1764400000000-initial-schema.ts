import { MigrationInterface, QueryRunner } from 'typeorm';
import { APP_ROLE } from '../src/db/app-role';

// Millisecond timestamps: JavaScript dates and pagination cursors hold them exactly.
const NOW_MS = `date_trunc('milliseconds', now())`;

const TENANT = `nullif(current_setting('app.project_id', true), '')::uuid`;

/** Tables carrying project_id; each gets the same RLS policy. */
const TENANT_TABLES = [
  'api_keys', 'images', 'reference_image_sets', 'reference_images', 'characters', 'stories',
  'story_characters', 'frames', 'generation_jobs', 'renders',
];

/**
 * The initial schema. Hand-written and reviewed; notes on the choices:
 * - Every tenant table has project_id NOT NULL and a composite foreign key (x_id, project_id) to
 *   its parent, so even a raw insert cannot point a row at another project's parent.
 * - ON DELETE: children that are part of their parent cascade (project -> everything, story ->
 *   frames and cast, frame -> renders, set -> reference images); references to things with their
 *   own life are protected (a cast character, an image in use: NO ACTION, so the service answers
 *   CONFLICT) or cleared (a job's story/frame/character, a key's creator: SET NULL on that column).
 *   The protecting keys are checked at commit (DEFERRABLE INITIALLY DEFERRED): deleting a project
 *   reaches an image both directly and through story -> frame -> render, and a check at the end
 *   of the statement can run before the render's cascade has.
 * - Row-level security keyed on the transaction-local app.project_id, applied to APP_ROLE.
 */
export class InitialSchema1764400000000 implements MigrationInterface {
  name = 'InitialSchema1764400000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE EXTENSION IF NOT EXISTS pgcrypto`);
    // Roles are cluster-wide and may already exist (another database of the same cluster).
    await q.query(`DO $$ BEGIN
      IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${APP_ROLE}') THEN
        CREATE ROLE ${APP_ROLE} NOLOGIN NOSUPERUSER NOINHERIT NOBYPASSRLS;
      END IF;
      IF NOT pg_has_role(current_user, '${APP_ROLE}', 'MEMBER') THEN
        EXECUTE format('GRANT ${APP_ROLE} TO %I', current_user);
      END IF;
    END $$`);

    await q.query(`CREATE TABLE projects (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      name varchar(200) NOT NULL CHECK (length(btrim(name)) > 0),
      created_at timestamptz NOT NULL DEFAULT ${NOW_MS},
      updated_at timestamptz NOT NULL DEFAULT now()
    )`);

    await q.query(`CREATE TABLE api_keys (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
      name varchar(100) NOT NULL,
      role varchar(10) NOT NULL CHECK (role IN ('admin', 'editor', 'viewer')),
      prefix varchar(16) NOT NULL,
      key_hash char(64) NOT NULL,
      created_by_key_id uuid REFERENCES api_keys (id) ON DELETE SET NULL,
      created_at timestamptz NOT NULL DEFAULT ${NOW_MS},
      last_used_at timestamptz,
      revoked_at timestamptz,
      CONSTRAINT api_keys_key_hash_key UNIQUE (key_hash),
      CONSTRAINT api_keys_id_project_key UNIQUE (id, project_id)
    )`);
    await q.query(`CREATE INDEX api_keys_project_created_idx ON api_keys (project_id, created_at, id)`);
    await q.query(`CREATE INDEX api_keys_created_by_idx ON api_keys (created_by_key_id) WHERE created_by_key_id IS NOT NULL`);

    await q.query(`CREATE TABLE images (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
      content_hash char(64) NOT NULL,
      mime varchar(50) NOT NULL,
      width int NOT NULL CHECK (width > 0),
      height int NOT NULL CHECK (height > 0),
      byte_size int NOT NULL CHECK (byte_size >= 0),
      storage_key varchar(500) NOT NULL,
      created_at timestamptz NOT NULL DEFAULT ${NOW_MS},
      CONSTRAINT images_project_content_key UNIQUE (project_id, content_hash),
      CONSTRAINT images_id_project_key UNIQUE (id, project_id)
    )`);

    await q.query(`CREATE TABLE reference_image_sets (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
      name varchar(100) NOT NULL,
      created_at timestamptz NOT NULL DEFAULT ${NOW_MS},
      updated_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT reference_image_sets_id_project_key UNIQUE (id, project_id)
    )`);
    await q.query(`CREATE INDEX reference_image_sets_project_created_idx ON reference_image_sets (project_id, created_at, id)`);

    await q.query(`CREATE TABLE reference_images (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      project_id uuid NOT NULL,
      set_id uuid NOT NULL,
      image_id uuid NOT NULL,
      position int NOT NULL CHECK (position >= 0),
      created_at timestamptz NOT NULL DEFAULT ${NOW_MS},
      CONSTRAINT reference_images_set_fkey FOREIGN KEY (set_id, project_id)
        REFERENCES reference_image_sets (id, project_id) ON DELETE CASCADE,
      CONSTRAINT reference_images_image_fkey FOREIGN KEY (image_id, project_id)
        REFERENCES images (id, project_id) DEFERRABLE INITIALLY DEFERRED,
      CONSTRAINT reference_images_set_position_key UNIQUE (set_id, position)
    )`);
    await q.query(`CREATE INDEX reference_images_image_idx ON reference_images (image_id)`);

    await q.query(`CREATE TABLE characters (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
      name varchar(100) NOT NULL CHECK (length(btrim(name)) > 0),
      description text NOT NULL,
      negative_prompt text NOT NULL DEFAULT '',
      style varchar(200) NOT NULL DEFAULT '',
      model varchar(100) NOT NULL DEFAULT 'story-world',
      seed int NOT NULL CHECK (seed >= 0),
      identity_frames int NOT NULL DEFAULT 2 CHECK (identity_frames BETWEEN 1 AND 8),
      sampling_rate real NOT NULL DEFAULT 0.5 CHECK (sampling_rate > 0 AND sampling_rate <= 1),
      reference_image_set_id uuid,
      anchor_version int NOT NULL DEFAULT 1 CHECK (anchor_version >= 1),
      created_at timestamptz NOT NULL DEFAULT ${NOW_MS},
      updated_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT characters_id_project_key UNIQUE (id, project_id),
      CONSTRAINT characters_reference_set_fkey FOREIGN KEY (reference_image_set_id, project_id)
        REFERENCES reference_image_sets (id, project_id) ON DELETE SET NULL (reference_image_set_id)
    )`);
    // Script lines name characters: names are unique in a project, case-insensitively.
    await q.query(`CREATE UNIQUE INDEX characters_project_name_key ON characters (project_id, lower(name))`);
    await q.query(`CREATE INDEX characters_project_created_idx ON characters (project_id, created_at, id)`);
    await q.query(`CREATE INDEX characters_reference_set_idx ON characters (reference_image_set_id) WHERE reference_image_set_id IS NOT NULL`);

    await q.query(`CREATE TABLE stories (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
      title varchar(200) NOT NULL CHECK (length(btrim(title)) > 0),
      style varchar(200) NOT NULL DEFAULT '',
      width int NOT NULL CHECK (width BETWEEN 32 AND 2048 AND width % 8 = 0),
      height int NOT NULL CHECK (height BETWEEN 32 AND 2048 AND height % 8 = 0),
      steps int NOT NULL CHECK (steps BETWEEN 1 AND 150),
      guidance real NOT NULL CHECK (guidance >= 0 AND guidance <= 30),
      scheduler varchar(20) NOT NULL CHECK (scheduler IN ('ddim', 'euler_a', 'dpmpp_2m')),
      seed int NOT NULL CHECK (seed >= 0),
      frame_count int NOT NULL DEFAULT 0 CHECK (frame_count BETWEEN 0 AND 200),
      created_at timestamptz NOT NULL DEFAULT ${NOW_MS},
      updated_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT stories_id_project_key UNIQUE (id, project_id)
    )`);
    await q.query(`CREATE INDEX stories_project_created_idx ON stories (project_id, created_at, id)`);

    await q.query(`CREATE TABLE story_characters (
      story_id uuid NOT NULL,
      character_id uuid NOT NULL,
      project_id uuid NOT NULL,
      position int NOT NULL CHECK (position >= 0),
      PRIMARY KEY (story_id, character_id),
      CONSTRAINT story_characters_story_fkey FOREIGN KEY (story_id, project_id)
        REFERENCES stories (id, project_id) ON DELETE CASCADE,
      CONSTRAINT story_characters_character_fkey FOREIGN KEY (character_id, project_id)
        REFERENCES characters (id, project_id) DEFERRABLE INITIALLY DEFERRED,
      CONSTRAINT story_characters_story_position_key UNIQUE (story_id, position) DEFERRABLE INITIALLY IMMEDIATE
    )`);
    await q.query(`CREATE INDEX story_characters_character_idx ON story_characters (character_id)`);

    await q.query(`CREATE TABLE frames (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      project_id uuid NOT NULL,
      story_id uuid NOT NULL,
      position int NOT NULL CHECK (position >= 1),
      prompt text NOT NULL,
      caption text NOT NULL DEFAULT '',
      no_character boolean NOT NULL DEFAULT false,
      character_ids uuid[],
      seed int CHECK (seed >= 0),
      created_at timestamptz NOT NULL DEFAULT ${NOW_MS},
      updated_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT frames_id_project_key UNIQUE (id, project_id),
      CONSTRAINT frames_story_fkey FOREIGN KEY (story_id, project_id)
        REFERENCES stories (id, project_id) ON DELETE CASCADE,
      -- Deferrable so the check runs at the end of each statement, not row by row: one UPDATE can
      -- shift positions (position = position + 1) without colliding with itself.
      CONSTRAINT frames_story_position_key UNIQUE (story_id, position) DEFERRABLE INITIALLY IMMEDIATE,
      CONSTRAINT frames_cast_check CHECK (NOT (no_character AND character_ids IS NOT NULL))
    )`);

    await q.query(`CREATE TABLE generation_jobs (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
      kind varchar(50) NOT NULL,
      status varchar(20) NOT NULL DEFAULT 'QUEUED'
        CHECK (status IN ('QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED')),
      story_id uuid,
      frame_id uuid,
      character_id uuid,
      request jsonb NOT NULL DEFAULT '{}',
      result jsonb,
      progress_step int NOT NULL DEFAULT 0 CHECK (progress_step >= 0),
      progress_total int NOT NULL DEFAULT 0 CHECK (progress_total >= 0),
      frames_done int NOT NULL DEFAULT 0 CHECK (frames_done >= 0),
      frames_total int NOT NULL DEFAULT 0 CHECK (frames_total >= 0),
      attempts int NOT NULL DEFAULT 0 CHECK (attempts >= 0),
      error_code varchar(50),
      error_message text,
      created_by_key_id uuid,
      idempotency_key varchar(200),
      queue_job_id uuid,
      created_at timestamptz NOT NULL DEFAULT ${NOW_MS},
      started_at timestamptz,
      finished_at timestamptz,
      updated_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT generation_jobs_id_project_key UNIQUE (id, project_id),
      CONSTRAINT generation_jobs_idempotency_key UNIQUE (project_id, idempotency_key),
      CONSTRAINT generation_jobs_story_fkey FOREIGN KEY (story_id, project_id)
        REFERENCES stories (id, project_id) ON DELETE SET NULL (story_id),
      CONSTRAINT generation_jobs_frame_fkey FOREIGN KEY (frame_id, project_id)
        REFERENCES frames (id, project_id) ON DELETE SET NULL (frame_id),
      CONSTRAINT generation_jobs_character_fkey FOREIGN KEY (character_id, project_id)
        REFERENCES characters (id, project_id) ON DELETE SET NULL (character_id),
      CONSTRAINT generation_jobs_created_by_fkey FOREIGN KEY (created_by_key_id, project_id)
        REFERENCES api_keys (id, project_id) ON DELETE SET NULL (created_by_key_id)
    )`);
    await q.query(`CREATE INDEX generation_jobs_project_created_idx ON generation_jobs (project_id, created_at, id)`);
    await q.query(`CREATE INDEX generation_jobs_story_idx ON generation_jobs (story_id) WHERE story_id IS NOT NULL`);
    await q.query(`CREATE INDEX generation_jobs_frame_idx ON generation_jobs (frame_id) WHERE frame_id IS NOT NULL`);
    await q.query(`CREATE INDEX generation_jobs_character_idx ON generation_jobs (character_id) WHERE character_id IS NOT NULL`);
    await q.query(`CREATE INDEX generation_jobs_created_by_idx ON generation_jobs (created_by_key_id) WHERE created_by_key_id IS NOT NULL`);
    await q.query(`CREATE INDEX generation_jobs_active_idx ON generation_jobs (status, created_at) WHERE status IN ('QUEUED', 'RUNNING')`);

    await q.query(`CREATE TABLE renders (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      project_id uuid NOT NULL,
      frame_id uuid NOT NULL,
      job_id uuid,
      image_id uuid NOT NULL,
      webp_image_id uuid,
      thumbnail_image_id uuid,
      prompt text NOT NULL,
      negative_prompt text NOT NULL DEFAULT '',
      seed int NOT NULL CHECK (seed >= 0),
      steps int NOT NULL CHECK (steps >= 1),
      guidance real NOT NULL,
      scheduler varchar(20) NOT NULL,
      model varchar(100) NOT NULL,
      width int NOT NULL,
      height int NOT NULL,
      anchor_versions jsonb NOT NULL DEFAULT '{}',
      timings jsonb NOT NULL DEFAULT '{}',
      duration_ms int,
      consistency_score real,
      is_current boolean NOT NULL DEFAULT false,
      created_at timestamptz NOT NULL DEFAULT ${NOW_MS},
      CONSTRAINT renders_frame_fkey FOREIGN KEY (frame_id, project_id)
        REFERENCES frames (id, project_id) ON DELETE CASCADE,
      CONSTRAINT renders_job_fkey FOREIGN KEY (job_id, project_id)
        REFERENCES generation_jobs (id, project_id) ON DELETE SET NULL (job_id),
      CONSTRAINT renders_image_fkey FOREIGN KEY (image_id, project_id)
        REFERENCES images (id, project_id) DEFERRABLE INITIALLY DEFERRED,
      CONSTRAINT renders_webp_image_fkey FOREIGN KEY (webp_image_id, project_id)
        REFERENCES images (id, project_id) DEFERRABLE INITIALLY DEFERRED,
      CONSTRAINT renders_thumbnail_image_fkey FOREIGN KEY (thumbnail_image_id, project_id)
        REFERENCES images (id, project_id) DEFERRABLE INITIALLY DEFERRED
    )`);
    await q.query(`CREATE UNIQUE INDEX renders_one_current_per_frame ON renders (frame_id) WHERE is_current`);
    await q.query(`CREATE INDEX renders_frame_created_idx ON renders (frame_id, created_at, id)`);
    await q.query(`CREATE INDEX renders_job_idx ON renders (job_id) WHERE job_id IS NOT NULL`);
    await q.query(`CREATE INDEX renders_image_idx ON renders (image_id)`);
    await q.query(`CREATE INDEX renders_webp_image_idx ON renders (webp_image_id) WHERE webp_image_id IS NOT NULL`);
    await q.query(`CREATE INDEX renders_thumbnail_image_idx ON renders (thumbnail_image_id) WHERE thumbnail_image_id IS NOT NULL`);

    await q.query(`GRANT USAGE ON SCHEMA public TO ${APP_ROLE}`);
    await q.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON projects, ${TENANT_TABLES.join(', ')} TO ${APP_ROLE}`);

    await q.query(`ALTER TABLE projects ENABLE ROW LEVEL SECURITY`);
    await q.query(`CREATE POLICY tenant_isolation ON projects USING (id = ${TENANT}) WITH CHECK (id = ${TENANT})`);
    for (const table of TENANT_TABLES) {
      await q.query(`ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`);
      await q.query(`CREATE POLICY tenant_isolation ON ${table}
        USING (project_id = ${TENANT}) WITH CHECK (project_id = ${TENANT})`);
    }
  }

  public async down(q: QueryRunner): Promise<void> {
    // The role is left in place: it is cluster-wide and other databases may use it.
    for (const table of ['renders', 'generation_jobs', 'frames', 'story_characters', 'stories', 'characters',
      'reference_images', 'reference_image_sets', 'images', 'api_keys', 'projects']) {
      await q.query(`DROP TABLE ${table}`);
    }
  }
}
