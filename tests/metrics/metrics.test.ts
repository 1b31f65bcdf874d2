/**
 * /metrics: Prometheus text from a real server on a real database, after real GraphQL requests
 * and a real generation job on the story-world pack; who may read it (the token), and where it is
 * served (the API port, a port of its own, or nowhere).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApp } from '../../src/app';
import { createApiServer } from '../../src/api/server';
import { loadConfig } from '../../src/config';
import { freePort } from '../../src/util/free-port';
import { Logger } from '../../src/util/logger';
import { TestApi, startTestApi } from '../support/api-harness';
import { GenerationApi, startGenerationApi } from '../support/generation-harness';
import { createStory, decodeId } from '../support/fixtures';
import { createTestDatabase } from '../support/test-db';
import { WebhookReceiver, eventually } from '../support/webhook-receiver';
import { withTenant } from '../../src/db/tenant-session';
import { storyUpdated } from '../../src/events/publisher';

const TOKEN = 'metrics-token-for-tests-0123456789';

interface Scrape {
  text: string;
  types: Map<string, string>;
  samples: { name: string; labels: Record<string, string>; value: number }[];
}

function parse(text: string): Scrape {
  const types = new Map<string, string>();
  const samples: Scrape['samples'] = [];
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) types.set(type[1]!, type[2]!);
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[k!] = v!;
    samples.push({ name: m[1]!, labels, value: m[3] === '+Inf' ? Infinity : m[3] === '-Inf' ? -Infinity : Number(m[3]) });
  }
  return { text, types, samples };
}

/** The sum of the samples of `name` whose labels include `labels`. */
function value(scrape: Scrape, name: string, labels: Record<string, string> = {}): number {
  return scrape.samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

function has(scrape: Scrape, name: string, labels: Record<string, string> = {}): boolean {
  return scrape.samples.some((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

async function scrape(url: string, token = TOKEN): Promise<Scrape> {
  const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  if (response.status !== 200) throw new Error(`/metrics answered ${response.status}`);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parse(await response.text());
}

describe('/metrics on the API port (STORYFORGE_METRICS_TOKEN)', () => {
  let api: TestApi;
  let metricsUrl: string;
  let key: string;
  let projectId: string;

  beforeAll(async () => {
    const webhookKey = randomBytes(32);
    api = await startTestApi({
      metricsToken: TOKEN,
      webhooks: { key: () => webhookKey, allowPrivate: true, timeoutMs: 5000, maxAttempts: 2, retryBaseMs: 50, retryMaxMs: 1000, pollMs: 200 },
    });
    metricsUrl = new URL('/metrics', api.url).href;
    ({ secret: key, projectId } = await api.createProject('Metrics'));
  });
  afterAll(() => api?.close());

  it('asks for the token: 401 without it, with another one or another scheme; 200 with it', async () => {
    const without = await fetch(metricsUrl);
    expect(without.status).toBe(401);
    expect(without.headers.get('www-authenticate')).toBe('Bearer realm="metrics"');
    expect(await without.text()).not.toContain('storyforge_');
    expect((await fetch(metricsUrl, { headers: { authorization: `Bearer ${TOKEN}x` } })).status).toBe(401);
    expect((await fetch(metricsUrl, { headers: { authorization: 'Bearer short' } })).status).toBe(401);
    expect((await fetch(metricsUrl, { headers: { authorization: `Basic ${TOKEN}` } })).status).toBe(401);
    expect((await fetch(metricsUrl, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
  });

  it('serves the process metrics, event-loop delay included, and every StoryForge family', async () => {
    const s = await scrape(metricsUrl);
    for (const name of ['process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'nodejs_heap_size_used_bytes',
      'nodejs_eventloop_lag_seconds', 'nodejs_eventloop_lag_p99_seconds']) {
      expect(has(s, name)).toBe(true);
    }
    expect(Object.fromEntries([...s.types].filter(([name]) => name.startsWith('storyforge_')))).toEqual({
      storyforge_graphql_request_duration_seconds: 'histogram',
      storyforge_generation_job_duration_seconds: 'histogram',
      storyforge_generation_step_duration_seconds: 'histogram',
      storyforge_webhook_deliveries_total: 'counter',
      storyforge_bank_cache_lookups_total: 'counter',
      storyforge_generation_jobs: 'gauge',
      storyforge_generation_jobs_oldest_age_seconds: 'gauge',
      storyforge_db_pool_clients: 'gauge',
      storyforge_db_pool_idle_clients: 'gauge',
      storyforge_db_pool_waiting_requests: 'gauge',
      storyforge_db_pool_max_clients: 'gauge',
    });
    // The test data source's pool (tests/support/test-db.ts: 5), read from the pg Pool under TypeORM.
    expect(value(s, 'storyforge_db_pool_max_clients')).toBe(5);
    expect(value(s, 'storyforge_db_pool_clients')).toBeGreaterThanOrEqual(1);
    expect(value(s, 'storyforge_db_pool_clients')).toBeLessThanOrEqual(5);
    expect(value(s, 'storyforge_db_pool_idle_clients')).toBeLessThanOrEqual(value(s, 'storyforge_db_pool_clients'));
    // Read before the scrape's own query takes a connection (a background query may be waiting at that moment).
    expect(has(s, 'storyforge_db_pool_waiting_requests')).toBe(true);
    expect(value(s, 'storyforge_db_pool_waiting_requests')).toBeLessThanOrEqual(1);
  });

  it('times GraphQL requests by operation name and outcome', async () => {
    const histogram = 'storyforge_graphql_request_duration_seconds';
    const before = await scrape(metricsUrl);
    for (let i = 0; i < 3; i++) expect((await api.gql(`query MetricsProbe { __typename }`, {}, key)).errors).toBeUndefined();
    const denied = await api.gql(`mutation MetricsDenied { createProject(input: { name: "No" }) { secret } }`, {}, key);
    const deniedCode = denied.errors?.[0]?.extensions?.code;
    expect(deniedCode).toEqual(expect.stringMatching(/^[A-Z_]+$/));
    expect((await api.gql(`query MetricsBroken { noSuchField }`, {}, key)).errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    const after = await scrape(metricsUrl);

    const count = (s: Scrape, labels: Record<string, string>) => value(s, `${histogram}_count`, labels);
    expect(count(after, { operation: 'MetricsProbe', outcome: 'ok' }) - count(before, { operation: 'MetricsProbe', outcome: 'ok' })).toBe(3);
    expect(count(after, { operation: 'MetricsProbe' }) - count(before, { operation: 'MetricsProbe' })).toBe(3);
    expect(count(after, { operation: 'MetricsDenied', outcome: deniedCode as string }) - count(before, { operation: 'MetricsDenied' })).toBe(1);
    // Refused before its operation was resolved: no name to go by, the outcome says why.
    expect(count(after, { operation: 'anonymous', outcome: 'GRAPHQL_VALIDATION_FAILED' })
      - count(before, { operation: 'anonymous', outcome: 'GRAPHQL_VALIDATION_FAILED' })).toBe(1);
    expect(value(after, `${histogram}_sum`, { operation: 'MetricsProbe', outcome: 'ok' })).toBeGreaterThan(0);
    expect(value(after, `${histogram}_bucket`, { operation: 'MetricsProbe', outcome: 'ok', le: '+Inf' })).toBe(count(after, { operation: 'MetricsProbe', outcome: 'ok' }));
  });

  it('keeps at most 100 operation names as labels; later new names count as "other"', async () => {
    const histogram = 'storyforge_graphql_request_duration_seconds_count';
    for (let i = 0; i < 100; i++) await api.gql(`query Flood${i} { __typename }`, {}, key);
    const s = await scrape(metricsUrl);
    const names = new Set(s.samples.filter((x) => x.name === histogram).map((x) => x.labels.operation));
    expect(names.size).toBeLessThanOrEqual(101);
    expect(names.has('other')).toBe(true);
    expect(names.has('MetricsProbe')).toBe(true);
    // A name already kept keeps its own label.
    await api.gql(`query MetricsProbe { __typename }`, {}, key);
    expect(value(await scrape(metricsUrl), histogram, { operation: 'MetricsProbe', outcome: 'ok' })).toBe(value(s, histogram, { operation: 'MetricsProbe', outcome: 'ok' }) + 1);
  });

  it('reports queued and running jobs of every project, and the age of the oldest, as the table has them', async () => {
    const project = decodeId(projectId);
    const other = decodeId((await api.createProject('Metrics other')).projectId);
    await api.db.owner.query(
      `INSERT INTO generation_jobs (project_id, kind, status, created_at, started_at) VALUES
         ($1, 'story', 'QUEUED', now() - interval '42 seconds', NULL),
         ($2, 'story', 'QUEUED', now() - interval '5 seconds', NULL),
         ($1, 'frame', 'RUNNING', now() - interval '100 seconds', now() - interval '10 seconds'),
         ($2, 'frame', 'SUCCEEDED', now() - interval '1 hour', now() - interval '1 hour')`, [project, other]);
    const s = await scrape(metricsUrl);
    const { rows } = await api.db.owner.query(`SELECT status, count(*)::int AS n FROM generation_jobs GROUP BY status`);
    const table = Object.fromEntries(rows.map((r: { status: string; n: number }) => [r.status, r.n]));
    expect(value(s, 'storyforge_generation_jobs', { status: 'QUEUED' })).toBe(table.QUEUED);
    expect(value(s, 'storyforge_generation_jobs', { status: 'RUNNING' })).toBe(table.RUNNING);
    expect(table).toMatchObject({ QUEUED: 2, RUNNING: 1 });
    // Finished jobs are not counted: only the active ones (their partial index) are read on a scrape.
    expect(has(s, 'storyforge_generation_jobs', { status: 'SUCCEEDED' })).toBe(false);
    const queuedAge = value(s, 'storyforge_generation_jobs_oldest_age_seconds', { status: 'QUEUED' });
    expect(queuedAge).toBeGreaterThanOrEqual(42);
    expect(queuedAge).toBeLessThan(100);
    const runningAge = value(s, 'storyforge_generation_jobs_oldest_age_seconds', { status: 'RUNNING' });
    expect(runningAge).toBeGreaterThanOrEqual(10);
    expect(runningAge).toBeLessThan(100); // since it started, not since it was created

    await api.db.owner.query(`DELETE FROM generation_jobs WHERE status IN ('QUEUED', 'RUNNING')`);
    const empty = await scrape(metricsUrl);
    expect(value(empty, 'storyforge_generation_jobs', { status: 'QUEUED' })).toBe(0);
    expect(has(empty, 'storyforge_generation_jobs_oldest_age_seconds', { status: 'QUEUED' })).toBe(true);
    expect(value(empty, 'storyforge_generation_jobs_oldest_age_seconds', { status: 'QUEUED' })).toBe(0);
  });

  it('counts webhook deliveries by outcome: delivered, retrying, failed', async () => {
    const receiver = await new WebhookReceiver(204).start();
    try {
      const created = await api.gql(`mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { webhook { id } } }`,
        { input: { url: receiver.url, events: ['STORY_UPDATED'] } }, key);
      expect(created.errors).toBeUndefined();
      const story = await createStory(api, key, { title: 'Hooked', script: 'one' });
      const deliveries = async () => {
        const s = await scrape(metricsUrl);
        return Object.fromEntries(['delivered', 'retrying', 'failed'].map((outcome) => [outcome, value(s, 'storyforge_webhook_deliveries_total', { outcome })]));
      };
      const fire = () => withTenant(api.db.dataSource, decodeId(projectId), (s) => storyUpdated(s, decodeId(story.id)));
      // Two attempts (maxAttempts 2), both refused: one retried, then given up.
      receiver.respondWith(500, 500);
      await fire();
      await eventually(async () => ((await deliveries()).failed === 1 ? true : undefined));
      await fire();
      const counted = await eventually(async () => {
        const d = await deliveries();
        return d.delivered === 1 ? d : undefined;
      });
      expect(counted).toEqual({ delivered: 1, retrying: 1, failed: 1 });
    } finally {
      await api.db.owner.query(`DELETE FROM webhooks`);
      await receiver.stop();
    }
  });

  it('is not served on the API port without a token, nor when it has a port of its own', async () => {
    const quiet = new Logger('error', {}, () => undefined);
    const base = { platformKey: undefined, maxBodyBytes: 1_000_000, rateLimitPerMinute: 0, maxQueryCost: loadConfig({}).maxQueryCost };
    for (const access of [{}, { metricsPort: 9 }, { metricsPort: 9, metricsToken: TOKEN }]) {
      const server = await createApiServer({ ...base, ...access }, api.db.dataSource, quiet);
      const port = await server.listen(0, '127.0.0.1');
      try {
        const response = await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
        expect(response.status).toBe(404);
        expect(await response.text()).not.toContain('storyforge_');
      } finally {
        await server.stop();
      }
    }
  });
});

describe('/metrics of a generation job (story-world)', () => {
  let api: GenerationApi;

  beforeAll(async () => {
    api = await startGenerationApi({ workers: 1, api: { metricsToken: TOKEN } });
  });
  afterAll(() => api?.close());

  it('records the job attempt and its steps by model, and the bank cache lookups', async () => {
    const metricsUrl = new URL('/metrics', api.url).href;
    const key = (await api.createProject('Metrics gen')).secret;
    const created = await api.gql(`mutation($input: CreateCharacterInput!) { createCharacter(input: $input) { id } }`,
      { input: { name: 'Hero', description: 'a person with red hair', seed: 3 } }, key);
    expect(created.errors).toBeUndefined();
    const hero = created.data.createCharacter as { id: string };
    const story = await createStory(api, key, { title: 'Metrics', characterIds: [hero.id], steps: 2, seed: 9, script: 'Hero waving on the beach' });
    const before = await scrape(metricsUrl);
    const started = await api.gql(`mutation($id: ID!) { generateStory(storyId: $id) { job { id } } }`, { id: story.id }, key);
    expect(started.errors).toBeUndefined();
    expect((await api.waitForJob(started.data.generateStory.job.id, key)).status).toBe('SUCCEEDED');
    const after = await scrape(metricsUrl);

    const jobs = 'storyforge_generation_job_duration_seconds_count';
    const story_ = { kind: 'story', model: 'story-world', outcome: 'succeeded' };
    expect(value(after, jobs, story_) - value(before, jobs, story_)).toBe(1);
    expect(value(after, 'storyforge_generation_job_duration_seconds_sum', story_)).toBeGreaterThan(0);
    // Two steps a batch: one step-to-step interval of each render batch, each bank build several.
    const steps = 'storyforge_generation_step_duration_seconds_count';
    expect(value(after, steps, { model: 'story-world', op: 'render' }) - value(before, steps, { model: 'story-world', op: 'render' })).toBeGreaterThanOrEqual(1);
    expect(value(after, steps, { model: 'story-world', op: 'bank' })).toBeGreaterThanOrEqual(1);
    expect(value(after, 'storyforge_generation_step_duration_seconds_sum', { model: 'story-world' })).toBeGreaterThan(0);
    // The hero's bank was built once (a rebuild: neither memory nor disk had it).
    const lookups = 'storyforge_bank_cache_lookups_total';
    expect(value(after, lookups, { result: 'rebuild' })).toBeGreaterThanOrEqual(1);
    expect(has(after, lookups, { result: 'memory_hit' })).toBe(true);
    expect(has(after, lookups, { result: 'disk_hit' })).toBe(true);
    expect(value(after, 'storyforge_generation_jobs', { status: 'RUNNING' })).toBe(0);
    expect(value(after, 'storyforge_generation_jobs', { status: 'QUEUED' })).toBe(0);
  });
});

describe('/metrics on a port of its own (STORYFORGE_METRICS_PORT)', () => {
  it('is served there, behind the token when one is set, and not on the API port', async () => {
    const db = await createTestDatabase({ migrate: false });
    await db.dataSource.destroy();
    const metricsPort = await freePort();
    const config = loadConfig({
      DATABASE_URL: db.url, PORT: '0', HOST: '127.0.0.1', STORYFORGE_WORKERS: '0',
      STORYFORGE_METRICS_PORT: String(metricsPort), STORYFORGE_METRICS_TOKEN: TOKEN,
    });
    expect(config).toMatchObject({ metricsPort, metricsToken: TOKEN });
    const app = await startApp(config, new Logger('error', {}, () => undefined));
    try {
      expect(app.metricsPort).toBe(metricsPort);
      const own = `http://127.0.0.1:${metricsPort}`;
      expect((await fetch(`${own}/metrics`)).status).toBe(401);
      const s = await scrape(`${own}/metrics`);
      expect(has(s, 'storyforge_db_pool_max_clients')).toBe(true);
      expect(has(s, 'nodejs_eventloop_lag_seconds')).toBe(true);
      expect(value(s, 'storyforge_generation_jobs', { status: 'QUEUED' })).toBe(0);
      expect((await fetch(`${own}/graphql`)).status).toBe(404);
      expect((await fetch(`${own}/metrics`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(405);
      expect((await fetch(`http://127.0.0.1:${app.port}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(404);
      expect((await fetch(`http://127.0.0.1:${app.port}/healthz`)).status).toBe(200);
      await app.stop();
      await expect(fetch(`${own}/metrics`)).rejects.toThrow();
    } finally {
      await app.stop();
      await db.drop();
    }
  });

  it('is served by `storyforge worker` (no HTTP otherwise), which stops on SIGTERM', async () => {
    const db = await createTestDatabase({ migrate: false });
    await db.dataSource.destroy();
    const dataDir = mkdtempSync(join(tmpdir(), 'sf-metrics-worker-'));
    const metricsPort = await freePort();
    const child = spawn(process.execPath, ['-r', './tests/support/ts-register.cjs', 'src/cli/storyforge.ts', 'worker'], {
      cwd: join(__dirname, '../..'),
      env: {
        PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'info', DATABASE_URL: db.url, STORYFORGE_DATA_DIR: dataDir,
        STORYFORGE_WORKERS: '1', HOST: '127.0.0.1', STORYFORGE_METRICS_PORT: String(metricsPort), STORYFORGE_METRICS_TOKEN: TOKEN,
        STORYFORGE_WORKER_NICE: '7',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    const exited = new Promise<number | string | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
    try {
      for (let i = 0; !out.includes('"msg":"metrics listening"'); i++) {
        if (i > 1200 || child.exitCode !== null) throw new Error(`the worker did not start:\n${out}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const url = `http://127.0.0.1:${metricsPort}/metrics`;
      expect((await fetch(url)).status).toBe(401);
      const s = await scrape(url);
      expect(value(s, 'storyforge_db_pool_max_clients')).toBe(loadConfig({}).poolSize);
      expect(has(s, 'storyforge_bank_cache_lookups_total', { result: 'rebuild' })).toBe(true);
      expect(value(s, 'storyforge_generation_jobs', { status: 'QUEUED' })).toBe(0);
      expect(has(s, 'process_cpu_user_seconds_total')).toBe(true);
      // It lowered its own priority before starting its compute thread, which took it over
      // (Linux keeps a nice value per thread: field 19 of /proc/<pid>/task/<tid>/stat).
      const nice = (tid: string) => Number(readFileSync(`/proc/${child.pid}/task/${tid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[16]);
      const tasks = readdirSync(`/proc/${child.pid}/task`);
      expect(nice(String(child.pid))).toBe(7);
      expect(tasks.filter((t) => nice(t) === 7).length).toBeGreaterThanOrEqual(2);
      // The worker catches SIGTERM from its first moment (a signal during start-up stops it once started).
      child.kill('SIGTERM');
      const code = await exited;
      expect({ code, out: code === 0 ? '' : out }).toEqual({ code: 0, out: '' });
    } finally {
      child.kill('SIGKILL');
      await db.drop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('reads the two variables: unset or empty is none', () => {
    expect(loadConfig({})).toMatchObject({ metricsPort: undefined, metricsToken: undefined });
    expect(loadConfig({ STORYFORGE_METRICS_PORT: '', STORYFORGE_METRICS_TOKEN: '' })).toMatchObject({ metricsPort: undefined, metricsToken: undefined });
    expect(() => loadConfig({ STORYFORGE_METRICS_PORT: 'nine' })).toThrow(/STORYFORGE_METRICS_PORT/);
  });
});
