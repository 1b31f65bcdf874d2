import { randomBytes } from 'node:crypto';
import { withTenant } from '../../src/db/tenant-session';
import { jobUpdated, storyUpdated } from '../../src/events/publisher';
import { verifySignature } from '../../src/webhooks/signature';
import type { WebhookSettings } from '../../src/webhooks/webhook-settings';
import { TestApi, onlyError, startTestApi } from '../support/api-harness';
import { createStory, decodeId } from '../support/fixtures';
import { WebhookReceiver, eventually } from '../support/webhook-receiver';

const DELIVERY_FIELDS = `id event eventId attempt httpStatus error durationMs nextRetryAt succeeded createdAt`;
const CREATE = `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { webhook { id url events secretPrefix createdAt } secret } }`;

/**
 * Webhooks against the real server, PostgreSQL and a real local HTTP receiver: messages queued in
 * the change's transaction, delivered by the server's dispatcher, signed, retried, logged.
 */
describe('webhooks', () => {
  let api: TestApi;
  let keyA: string;
  let keyB: string;
  let projectA: string;
  let projectB: string;
  let storyA: string;
  const receivers: WebhookReceiver[] = [];
  const settings: WebhookSettings = {
    key: () => KEY, allowPrivate: true, timeoutMs: 5000, maxAttempts: 3, retryBaseMs: 50, retryMaxMs: 1000, pollMs: 200,
  };
  const KEY = randomBytes(32);

  const receiver = async (fallback = 204) => {
    const r = await new WebhookReceiver(fallback).start();
    receivers.push(r);
    return r;
  };
  const createWebhook = async (key: string, url: string, events: string[]) => {
    const r = await api.gql(CREATE, { input: { url, events } }, key);
    if (r.errors) throw new Error(JSON.stringify(r.errors));
    return r.data.createWebhook as { webhook: { id: string; url: string; events: string[]; secretPrefix: string }; secret: string };
  };
  const deliveries = async (webhookId: string, key = keyA, first = 20) => {
    const r = await api.gql(`query($id: ID!, $first: Int) { node(id: $id) { ... on Webhook { deliveries(first: $first) {
      edges { node { ${DELIVERY_FIELDS} } } pageInfo { hasNextPage endCursor } } } } }`, { id: webhookId, first }, key);
    if (r.errors) throw new Error(JSON.stringify(r.errors));
    return r.data.node.deliveries;
  };
  /** Waits until the webhook's log has `n` attempts; returns them oldest first. */
  const logged = (webhookId: string, n: number) => eventually(async () => {
    const page = await deliveries(webhookId);
    return page.edges.length >= n ? page.edges.map((e: any) => e.node).reverse() : undefined;
  });
  const insertJob = async (projectId: string, status: string) => {
    const { rows: [job] } = await api.db.owner.query(
      `INSERT INTO generation_jobs (project_id, kind, status, story_id, progress_total, frames_total, frames_done, progress_step, finished_at)
       VALUES ($1, 'story', $2, $3, 4, 2, 2, 4, now()) RETURNING id`, [projectId, status, decodeId(storyA)]);
    return job.id as string;
  };

  beforeAll(async () => {
    api = await startTestApi({ webhooks: settings });
    ({ secret: keyA, projectId: projectA } = await api.createProject('Project A'));
    ({ secret: keyB, projectId: projectB } = await api.createProject('Project B'));
    projectA = decodeId(projectA);
    projectB = decodeId(projectB);
    storyA = (await createStory(api, keyA, { title: 'Hooked story', script: 'one' })).id;
  });
  afterAll(async () => {
    await api.close();
    await Promise.all(receivers.map((r) => r.stop()));
  });
  afterEach(async () => {
    // Each test starts with no webhooks, so events of one test never reach another's receiver.
    await api.db.owner.query(`DELETE FROM webhooks`);
  });

  describe('management', () => {
    it('creates a webhook (admins only), shows the secret once and stores it sealed', async () => {
      const r = await receiver();
      const created = await createWebhook(keyA, r.url, ['JOB_SUCCEEDED', 'STORY_UPDATED']);
      expect(created.secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
      expect(created.webhook).toMatchObject({ url: r.url, events: ['JOB_SUCCEEDED', 'STORY_UPDATED'], secretPrefix: created.secret.slice(0, 12) });

      const { rows: [row] } = await api.db.owner.query(`SELECT secret_sealed, secret_prefix FROM webhooks WHERE id = $1`, [decodeId(created.webhook.id)]);
      expect(row.secret_sealed.includes(Buffer.from(created.secret))).toBe(false);
      expect(row.secret_sealed.includes(Buffer.from(created.secret.slice(6)))).toBe(false);

      const listed = await api.gql(`{ webhooks(first: 10) { edges { node { id url events secretPrefix } } } }`, {}, keyA);
      expect(listed.data.webhooks.edges.map((e: any) => e.node.id)).toEqual([created.webhook.id]);
      expect(JSON.stringify(listed)).not.toContain(created.secret);
      expect(api.logs.join('\n')).not.toContain(created.secret);
    });

    it('refuses editors and viewers: FORBIDDEN, and a webhook is NOT_FOUND through node()', async () => {
      const editor = (await api.gql(`mutation { createApiKey(input: { name: "ed", role: EDITOR }) { secret } }`, {}, keyA)).data.createApiKey.secret;
      const r = await receiver();
      const created = await createWebhook(keyA, r.url, ['JOB_FAILED']);
      expect(onlyError(await api.gql(CREATE, { input: { url: r.url, events: ['JOB_FAILED'] } }, editor)).extensions?.code).toBe('FORBIDDEN');
      expect(onlyError(await api.gql(`{ webhooks { edges { node { id } } } }`, {}, editor)).extensions?.code).toBe('FORBIDDEN');
      expect(onlyError(await api.gql(`mutation($id: ID!) { deleteWebhook(id: $id) { deletedId } }`, { id: created.webhook.id }, editor)).extensions?.code)
        .toBe('FORBIDDEN');
      expect(onlyError(await api.gql(`query($id: ID!) { node(id: $id) { id } }`, { id: created.webhook.id }, editor)).extensions?.code)
        .toBe('NOT_FOUND');
    });

    it('validates the input: http(s) only, no credentials, at least one event, none twice', async () => {
      const bad = async (url: string, events: string[]) => onlyError(await api.gql(CREATE, { input: { url, events } }, keyA)).extensions;
      expect(await bad('ftp://example.com/hook', ['JOB_FAILED'])).toEqual({ code: 'BAD_USER_INPUT', field: 'url' });
      expect(await bad('file:///etc/passwd', ['JOB_FAILED'])).toEqual({ code: 'BAD_USER_INPUT', field: 'url' });
      expect(await bad('not a url', ['JOB_FAILED'])).toEqual({ code: 'BAD_USER_INPUT', field: 'url' });
      expect(await bad('https://user:pass@example.com/hook', ['JOB_FAILED'])).toEqual({ code: 'BAD_USER_INPUT', field: 'url' });
      expect(await bad('https://example.com/hook', [])).toEqual({ code: 'BAD_USER_INPUT', field: 'events' });
      expect(await bad('https://example.com/hook', ['JOB_FAILED', 'JOB_FAILED'])).toEqual({ code: 'BAD_USER_INPUT', field: 'events' });
      expect((await api.db.owner.query(`SELECT count(*)::int AS n FROM webhooks`)).rows[0].n).toBe(0);
    });

    it('deletes a webhook with its log; deleting it again is NOT_FOUND', async () => {
      const r = await receiver();
      const created = await createWebhook(keyA, r.url, ['STORY_UPDATED']);
      await withTenant(api.db.dataSource, projectA, (s) => storyUpdated(s, decodeId(storyA)));
      await logged(created.webhook.id, 1);
      const del = `mutation($id: ID!) { deleteWebhook(id: $id) { deletedId } }`;
      expect((await api.gql(del, { id: created.webhook.id }, keyA)).data.deleteWebhook.deletedId).toBe(created.webhook.id);
      const left = await api.db.owner.query(`SELECT (SELECT count(*) FROM webhook_messages)::int AS m, (SELECT count(*) FROM webhook_deliveries)::int AS d`);
      expect(left.rows[0]).toEqual({ m: 0, d: 0 });
      expect(onlyError(await api.gql(del, { id: created.webhook.id }, keyA)).extensions).toEqual({ code: 'NOT_FOUND', field: 'id' });
    });
  });

  describe('delivery', () => {
    it('POSTs a finished job once, signed so that the README check verifies it, and logs the attempt', async () => {
      const r = await receiver();
      const created = await createWebhook(keyA, r.url, ['JOB_SUCCEEDED', 'JOB_FAILED']);
      const jobId = await insertJob(projectA, 'SUCCEEDED');
      // Published twice (a retried write, say): the webhook still hears of it once.
      await withTenant(api.db.dataSource, projectA, (s) => jobUpdated(s, { id: jobId }));
      await withTenant(api.db.dataSource, projectA, (s) => jobUpdated(s, { id: jobId }));

      const request = await r.next();
      expect(request.path).toBe('/hooks');
      expect(request.headers['content-type']).toBe('application/json');
      expect(request.headers['x-storyforge-event']).toBe('job.succeeded');
      expect(verifySignature(created.secret, request.body, String(request.headers['x-storyforge-signature']))).toBe(true);
      expect(verifySignature(created.secret, request.body + ' ', String(request.headers['x-storyforge-signature']))).toBe(false);
      expect(verifySignature('whsec_wrong', request.body, String(request.headers['x-storyforge-signature']))).toBe(false);
      const body = JSON.parse(request.body);
      expect(body).toMatchObject({
        id: request.headers['x-storyforge-event-id'], type: 'job.succeeded', projectId: Buffer.from(`Project:${projectA}`).toString('base64'),
        data: { job: { id: Buffer.from(`GenerationJob:${jobId}`).toString('base64'), kind: 'STORY', status: 'SUCCEEDED', storyId: storyA,
          progress: { step: 4, total: 4, framesDone: 2, framesTotal: 2 }, error: null } },
      });

      const [attempt] = await logged(created.webhook.id, 1);
      expect(attempt).toMatchObject({ event: 'JOB_SUCCEEDED', eventId: body.id, attempt: 1, httpStatus: 204, error: null, nextRetryAt: null, succeeded: true });
      const messages = await api.db.owner.query(`SELECT count(*)::int AS n FROM webhook_messages WHERE webhook_id = $1`, [decodeId(created.webhook.id)]);
      expect(messages.rows[0].n).toBe(1);
    });

    it('retries a failing receiver with backoff: failing twice then succeeding logs 3 attempts', async () => {
      const r = await receiver();
      r.respondWith(500, 502);
      const created = await createWebhook(keyA, r.url, ['STORY_UPDATED']);
      await withTenant(api.db.dataSource, projectA, (s) => storyUpdated(s, decodeId(storyA)));

      const requests = [await r.next(), await r.next(), await r.next()];
      // The same event and bytes every time, each attempt signed afresh.
      expect(new Set(requests.map((q) => q.body)).size).toBe(1);
      expect(new Set(requests.map((q) => q.headers['x-storyforge-event-id'])).size).toBe(1);
      expect(requests.map((q) => q.headers['x-storyforge-attempt'])).toEqual(['1', '2', '3']);
      for (const q of requests) expect(verifySignature(created.secret, q.body, String(q.headers['x-storyforge-signature']))).toBe(true);
      expect(JSON.parse(requests[0].body)).toMatchObject({ type: 'story.updated', data: { story: { id: storyA } } });

      const log = await logged(created.webhook.id, 3);
      expect(log.map((d: any) => [d.attempt, d.httpStatus, d.error, d.succeeded])).toEqual([
        [1, 500, 'HTTP 500', false], [2, 502, 'HTTP 502', false], [3, 204, null, true],
      ]);
      expect(log[0].nextRetryAt).not.toBeNull();
      expect(log[1].nextRetryAt).not.toBeNull();
      expect(log[2].nextRetryAt).toBeNull();
      // Exponential: the second wait is longer than the first (base 50 ms, then 100 ms, +-20%).
      const wait = (d: any) => new Date(d.nextRetryAt).getTime() - new Date(d.createdAt).getTime();
      expect(wait(log[1])).toBeGreaterThan(wait(log[0]));
      expect(new Set(log.map((d: any) => d.eventId)).size).toBe(1);
    });

    it('gives up after the attempt limit; an unreachable receiver is logged without a status', async () => {
      const r = await receiver();
      const url = r.url;
      await r.stop();
      const created = await createWebhook(keyA, url, ['STORY_UPDATED']);
      await withTenant(api.db.dataSource, projectA, (s) => storyUpdated(s, decodeId(storyA)));
      const log = await logged(created.webhook.id, 3);
      expect(log.map((d: any) => [d.attempt, d.httpStatus, d.succeeded])).toEqual([[1, null, false], [2, null, false], [3, null, false]]);
      expect(log[2].error).toMatch(/ECONNREFUSED/);
      expect(log[2].nextRetryAt).toBeNull();
      const { rows } = await api.db.owner.query(`SELECT status, attempts FROM webhook_messages WHERE webhook_id = $1`, [decodeId(created.webhook.id)]);
      expect(rows).toEqual([{ status: 'FAILED', attempts: 3 }]);
    });

    it('queues nothing for a change that rolled back, or for events a webhook did not ask for', async () => {
      const r = await receiver();
      const created = await createWebhook(keyA, r.url, ['JOB_FAILED']);
      await expect(withTenant(api.db.dataSource, projectA, async (s) => {
        await storyUpdated(s, decodeId(storyA));
        await jobUpdated(s, { id: await insertJob(projectA, 'FAILED') });
        throw new Error('roll back');
      })).rejects.toThrow('roll back');
      await withTenant(api.db.dataSource, projectA, (s) => storyUpdated(s, decodeId(storyA)));
      const running = await insertJob(projectA, 'RUNNING');
      await withTenant(api.db.dataSource, projectA, (s) => jobUpdated(s, { id: running }));
      const { rows } = await api.db.owner.query(`SELECT count(*)::int AS n FROM webhook_messages WHERE webhook_id = $1`, [decodeId(created.webhook.id)]);
      expect(rows[0].n).toBe(0);
    });
    it("answers a real mutation without waiting for its webhook (cancelJob with a receiver that does not answer)", async () => {
      const r = await receiver(0);
      const created = await createWebhook(keyA, r.url, ['JOB_CANCELLED']);
      const started = await api.gql(`mutation($id: ID!) { generateStory(storyId: $id) { job { id } } }`, { id: storyA }, keyA);
      expect(started.errors).toBeUndefined();
      const cancelled = await api.gql(`mutation($id: ID!) { cancelJob(id: $id) { job { id status } } }`, { id: started.data.generateStory.job.id }, keyA);
      expect(cancelled.data.cancelJob.job.status).toBe('CANCELLED');
      // The mutation has answered; the receiver now gets the event and is still holding it.
      const request = await r.next();
      expect(JSON.parse(request.body)).toMatchObject({ type: 'job.cancelled', data: { job: { id: started.data.generateStory.job.id, status: 'CANCELLED' } } });
      expect((await deliveries(created.webhook.id)).edges).toEqual([]);
      r.release();
      expect((await logged(created.webhook.id, 1))[0]).toMatchObject({ attempt: 1, httpStatus: 200, succeeded: true });
    });

    it('pages the delivery log, newest first', async () => {
      const r = await receiver();
      const created = await createWebhook(keyA, r.url, ['STORY_UPDATED']);
      for (let i = 0; i < 3; i++) {
        await withTenant(api.db.dataSource, projectA, (s) => storyUpdated(s, decodeId(storyA)));
        await r.next();
      }
      const all = await logged(created.webhook.id, 3);
      const first = await deliveries(created.webhook.id, keyA, 2);
      expect(first.edges.map((e: any) => e.node.id)).toEqual([all[2].id, all[1].id]);
      expect(first.pageInfo.hasNextPage).toBe(true);
      const rest = await api.gql(`query($id: ID!, $after: String) { node(id: $id) { ... on Webhook { deliveries(first: 2, after: $after) {
        edges { node { id } } pageInfo { hasNextPage } } } } }`, { id: created.webhook.id, after: first.pageInfo.endCursor }, keyA);
      expect(rest.data.node.deliveries.edges.map((e: any) => e.node.id)).toEqual([all[0].id]);
      expect(rest.data.node.deliveries.pageInfo.hasNextPage).toBe(false);
    });
  });

  describe('tenant isolation', () => {
    it("sends one project's events only to its own webhooks", async () => {
      const ra = await receiver();
      const rb = await receiver();
      const hookA = await createWebhook(keyA, ra.url, ['STORY_UPDATED', 'JOB_SUCCEEDED']);
      const hookB = await createWebhook(keyB, rb.url, ['STORY_UPDATED', 'JOB_SUCCEEDED']);
      await withTenant(api.db.dataSource, projectA, async (s) => {
        await storyUpdated(s, decodeId(storyA));
        await jobUpdated(s, { id: await insertJob(projectA, 'SUCCEEDED') });
      });
      // Messages are written in the change's own transaction: after its commit, B has none.
      const { rows } = await api.db.owner.query(`SELECT project_id, count(*)::int AS n FROM webhook_messages GROUP BY 1`);
      expect(rows).toEqual([{ project_id: projectA, n: 2 }]);
      await logged(hookA.webhook.id, 2);
      expect(rb.requests).toEqual([]);
      expect((await deliveries(hookB.webhook.id, keyB)).edges).toEqual([]);
      // And B cannot read A's webhook or its log.
      const seen = await api.gql(`query($id: ID!) { node(id: $id) { ... on Webhook { url deliveries { edges { node { id } } } } } }`, { id: hookA.webhook.id }, keyB);
      expect(seen.errors?.map((e) => e.extensions?.code)).toEqual(['NOT_FOUND']);
      expect(JSON.stringify(seen)).not.toContain(ra.url);
      expect(projectB).not.toBe(projectA);
    });
  });
});
