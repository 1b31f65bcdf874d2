import { MigrationInterface, QueryRunner } from 'typeorm';
import { APP_ROLE } from '../src/db/app-role';

const NOW_MS = `date_trunc('milliseconds', now())`;
const TENANT = `nullif(current_setting('app.project_id', true), '')::uuid`;

/**
 * Per-project webhooks:
 * - webhooks: the URL, the events it wants, and its signing secret sealed with the server's
 *   webhook key (AES-256-GCM; the secret must be readable again to sign, so it cannot be hashed
 *   like an API key, and sealing keeps a database dump from handing out every signing secret).
 * - webhook_messages: the durable outbox, one row per (webhook, event), written in the same
 *   transaction as the change it reports; dispatchers take due rows with SKIP LOCKED and a lease.
 *   A finished job is reported once per webhook (unique dedupe key).
 * - webhook_deliveries: the delivery log, one row per attempt.
 * All three carry project_id with composite foreign keys and the same RLS policy as the rest.
 */
export class Webhooks1764600000000 implements MigrationInterface {
  name = 'Webhooks1764600000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE webhooks (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
      url varchar(2000) NOT NULL,
      events varchar(50)[] NOT NULL CHECK (cardinality(events) > 0),
      secret_sealed bytea NOT NULL,
      secret_key_id char(16) NOT NULL,
      secret_prefix varchar(16) NOT NULL,
      created_by_key_id uuid,
      created_at timestamptz NOT NULL DEFAULT ${NOW_MS},
      CONSTRAINT webhooks_id_project_key UNIQUE (id, project_id),
      CONSTRAINT webhooks_created_by_fkey FOREIGN KEY (created_by_key_id, project_id)
        REFERENCES api_keys (id, project_id) ON DELETE SET NULL (created_by_key_id)
    )`);
    await q.query(`CREATE INDEX webhooks_project_created_idx ON webhooks (project_id, created_at, id)`);
    await q.query(`CREATE INDEX webhooks_created_by_idx ON webhooks (created_by_key_id) WHERE created_by_key_id IS NOT NULL`);

    await q.query(`CREATE TABLE webhook_messages (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      project_id uuid NOT NULL,
      webhook_id uuid NOT NULL,
      event varchar(50) NOT NULL,
      event_id uuid NOT NULL,
      dedupe_key varchar(200),
      body text NOT NULL,
      status varchar(20) NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'DELIVERED', 'FAILED')),
      attempts int NOT NULL DEFAULT 0 CHECK (attempts >= 0),
      next_attempt_at timestamptz NOT NULL DEFAULT now(),
      locked_until timestamptz,
      created_at timestamptz NOT NULL DEFAULT ${NOW_MS},
      updated_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT webhook_messages_id_project_key UNIQUE (id, project_id),
      CONSTRAINT webhook_messages_webhook_fkey FOREIGN KEY (webhook_id, project_id)
        REFERENCES webhooks (id, project_id) ON DELETE CASCADE,
      CONSTRAINT webhook_messages_dedupe_key UNIQUE (webhook_id, dedupe_key)
    )`);
    // What dispatchers look for: pending messages by due time.
    await q.query(`CREATE INDEX webhook_messages_due_idx ON webhook_messages (next_attempt_at) WHERE status = 'PENDING'`);
    await q.query(`CREATE INDEX webhook_messages_project_idx ON webhook_messages (project_id)`);

    await q.query(`CREATE TABLE webhook_deliveries (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      project_id uuid NOT NULL,
      webhook_id uuid NOT NULL,
      message_id uuid NOT NULL,
      event varchar(50) NOT NULL,
      event_id uuid NOT NULL,
      attempt int NOT NULL CHECK (attempt >= 1),
      http_status int,
      error text,
      duration_ms int NOT NULL CHECK (duration_ms >= 0),
      next_retry_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT ${NOW_MS},
      CONSTRAINT webhook_deliveries_webhook_fkey FOREIGN KEY (webhook_id, project_id)
        REFERENCES webhooks (id, project_id) ON DELETE CASCADE,
      CONSTRAINT webhook_deliveries_message_fkey FOREIGN KEY (message_id, project_id)
        REFERENCES webhook_messages (id, project_id) ON DELETE CASCADE,
      CONSTRAINT webhook_deliveries_message_attempt_key UNIQUE (message_id, attempt)
    )`);
    // The log of one webhook, newest first.
    await q.query(`CREATE INDEX webhook_deliveries_webhook_created_idx ON webhook_deliveries (webhook_id, created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX webhook_deliveries_project_idx ON webhook_deliveries (project_id)`);

    const tables = ['webhooks', 'webhook_messages', 'webhook_deliveries'];
    await q.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ${tables.join(', ')} TO ${APP_ROLE}`);
    for (const table of tables) {
      await q.query(`ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`);
      await q.query(`CREATE POLICY tenant_isolation ON ${table}
        USING (project_id = ${TENANT}) WITH CHECK (project_id = ${TENANT})`);
    }
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE webhook_deliveries`);
    await q.query(`DROP TABLE webhook_messages`);
    await q.query(`DROP TABLE webhooks`);
  }
}
