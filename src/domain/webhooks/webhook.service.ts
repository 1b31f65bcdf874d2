import { randomUUID } from 'node:crypto';
import { Webhook, WEBHOOK_EVENTS, WebhookEvent } from '../../db/entities/webhook.entity';
import { WebhookDelivery } from '../../db/entities/webhook-delivery.entity';
import type { TenantSession } from '../../db/tenant-session';
import type { SecretBox } from '../../webhooks/secret-box';
import { generateWebhookSecret } from '../../webhooks/signature';
import type { Actor } from '../common/actor';
import { pageByCreation } from '../common/creation-page';
import { AppError, ErrorCode, badInput, notFound } from '../common/errors';
import { Page, PageArgs, decodeTimeCursor, encodeTimeCursor, pageSize, toPage } from '../common/pagination';
import { validWebhookUrl } from './webhook-url';

export interface CreateWebhookInput {
  url: string;
  events: readonly string[];
}

export interface CreatedWebhook {
  webhook: Webhook;
  /** Shown once; stored sealed. */
  secret: string;
}

export interface WebhookRules {
  box: () => SecretBox;
  allowPrivate: boolean;
  maxPerProject: number;
}

/** Every column but the sealed secret, which never leaves the database except to sign. */
export const WEBHOOK_COLUMNS = 'id, project_id, url, events, secret_prefix, created_by_key_id, created_at';

/** Webhooks of a project (admins only, checked by the resolvers) and their delivery log. */
export class WebhookService {
  constructor(private readonly rules: WebhookRules) {}

  async create(session: TenantSession, actor: Actor, input: CreateWebhookInput): Promise<CreatedWebhook> {
    const url = validWebhookUrl(input.url, this.rules.allowPrivate);
    if (input.events.length === 0) throw badInput('events', 'list at least one event');
    if (new Set(input.events).size !== input.events.length) throw badInput('events', 'events lists an event twice');
    const events = input.events.map((e) => {
      if (!WEBHOOK_EVENTS.includes(e as WebhookEvent)) throw badInput('events', `unknown event ${e}`);
      return e as WebhookEvent;
    });
    const id = randomUUID();
    const secret = generateWebhookSecret();
    const box = this.rules.box();
    const sealed = box.seal(secret, `${session.projectId}/${id}`);
    const webhook = await session.atomically(async () => {
      // One project's creations take turns, so the count below cannot be raced past the limit.
      await session.query(`SELECT pg_advisory_xact_lock(hashtextextended('webhooks:' || $1, 0))`, [session.projectId]);
      const [{ n }] = await session.query<{ n: number }>(`SELECT count(*)::int AS n FROM webhooks WHERE project_id = $1`, [session.projectId]);
      if (n >= this.rules.maxPerProject) {
        throw new AppError(ErrorCode.CONFLICT, `a project has at most ${this.rules.maxPerProject} webhooks; delete one first`);
      }
      return session.one(Webhook,
        `INSERT INTO webhooks (id, project_id, url, events, secret_sealed, secret_key_id, secret_prefix, created_by_key_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${WEBHOOK_COLUMNS}`,
        [id, session.projectId, url, events, sealed, box.keyId, secret.slice(0, 12), actor.keyId]);
    });
    return { webhook: webhook!, secret };
  }

  /** Its pending messages and delivery log go with it. */
  async delete(session: TenantSession, id: string): Promise<void> {
    await session.atomically(async () => {
      const rows = await session.query(`DELETE FROM webhooks WHERE id = $1 RETURNING id`, [id]);
      if (rows.length === 0) throw notFound('id', 'webhook');
    });
  }

  async list(session: TenantSession, args: PageArgs): Promise<Page<Webhook>> {
    return pageByCreation(session, Webhook, { table: 'webhooks', columns: WEBHOOK_COLUMNS }, args);
  }

  /** The delivery log of one webhook, newest first: one entry per attempt. */
  async deliveries(session: TenantSession, webhookId: string, args: PageArgs): Promise<Page<WebhookDelivery>> {
    const first = pageSize(args.first);
    const after = args.after ? decodeTimeCursor(args.after) : null;
    const rows = await session.rows(WebhookDelivery,
      `SELECT * FROM webhook_deliveries
       WHERE webhook_id = $1 AND ($2::timestamptz IS NULL OR (created_at, id) < ($2, $3::uuid))
       ORDER BY created_at DESC, id DESC LIMIT $4`,
      [webhookId, after?.createdAt ?? null, after?.id ?? null, first + 1]);
    return toPage(rows, first, after !== null, (row) => encodeTimeCursor(row.createdAt, row.id));
  }
}
