/**
 * The split deployment, as processes: two API processes that take no jobs and two
 * `storyforge worker` processes, each with a data folder of its own, sharing only the database,
 * an S3 bucket (a real s3rver) and the secrets. A client on API 1 generates two stories while
 * following one through a subscription on API 2; one worker is killed with SIGKILL mid-job. In
 * the end every frame has exactly one render, readable through both APIs, the killed job was
 * retried by the other worker, and the webhook heard of each job's success once.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { generateSecret } from '../../src/domain/api-keys/key-secret';
import { freePort } from '../../src/util/free-port';
import { TestDatabase, createTestDatabase } from '../support/test-db';
import { WebhookReceiver } from '../support/webhook-receiver';
import { Subscription, connectWs } from '../support/ws-client';

jest.setTimeout(600_000);

const ROOT = resolve(__dirname, '../..');
const S3rver = require('s3rver') as new (options: {
  address: string; port: number; directory: string; silent: boolean; configureBuckets: { name: string }[];
}) => { run(): Promise<AddressInfo>; close(): Promise<void> };

interface Proc { name: string; child: ChildProcess; out: string; exited: Promise<number | string | null> }

describe('API and worker processes on one database and one bucket', () => {
  let db: TestDatabase;
  let dir: string;
  let s3: InstanceType<typeof S3rver>;
  const receiver = new WebhookReceiver();
  const procs: Proc[] = [];
  const ports: number[] = [];
  const platformKey = generateSecret('platform');

  function start(name: string, command: 'serve' | 'worker', env: Record<string, string>): Proc {
    const child = spawn(process.execPath, ['-r', './tests/support/ts-register.cjs', 'src/cli/storyforge.ts', command], {
      cwd: ROOT, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    const proc: Proc = { name, child, out: '', exited: new Promise((r) => child.once('exit', (code, signal) => r(code ?? signal))) };
    child.stdout!.on('data', (d) => (proc.out += d));
    child.stderr!.on('data', (d) => (proc.out += d));
    procs.push(proc);
    return proc;
  }

  async function waitFor(proc: Proc, text: string): Promise<void> {
    for (let i = 0; !proc.out.includes(text); i++) {
      if (i > 1800 || proc.child.exitCode !== null) throw new Error(`${proc.name} did not start:\n${proc.out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  beforeAll(async () => {
    db = await createTestDatabase({ migrate: false });
    await db.dataSource.destroy();
    dir = mkdtempSync(join(tmpdir(), 'sf-split-'));
    s3 = new S3rver({ address: '127.0.0.1', port: 0, directory: join(dir, 's3'), silent: true, configureBuckets: [{ name: 'split' }] });
    const { port: s3Port } = await s3.run();
    await receiver.start();
    const shared = {
      DATABASE_URL: db.url, LOG_LEVEL: 'info', HOST: '127.0.0.1',
      STORYFORGE_S3_BUCKET: 'split', STORYFORGE_S3_ENDPOINT: `http://127.0.0.1:${s3Port}`, STORYFORGE_S3_FORCE_PATH_STYLE: '1',
      AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER',
      STORYFORGE_URL_SECRET: randomBytes(32).toString('hex'), STORYFORGE_WEBHOOK_KEY: randomBytes(32).toString('hex'),
      STORYFORGE_QUEUE_MAINTENANCE_SECONDS: '1', STORYFORGE_QUEUE_POLL_SECONDS: '1', STORYFORGE_WORKER_HEARTBEAT_SECONDS: '1',
      // A killed worker's attempt is taken up again this long after it started.
      STORYFORGE_JOB_EXPIRE_SECONDS: '120', STORYFORGE_JOB_RETRY_DELAY_SECONDS: '1', STORYFORGE_JOB_RETRIES: '3',
    };
    for (const n of [1, 2]) {
      const port = await freePort();
      ports.push(port);
      start(`api ${n}`, 'serve', { ...shared, PORT: String(port), STORYFORGE_WORKERS: '0', STORYFORGE_PLATFORM_KEY: platformKey, STORYFORGE_RATE_LIMIT_PER_MINUTE: '0',
        STORYFORGE_DATA_DIR: join(dir, `api-${n}`), STORYFORGE_WEBHOOKS_ALLOW_PRIVATE: '1', STORYFORGE_WEBHOOK_RETRY_BASE_MS: '500' });
      // One at a time: the first runs the migrations.
      await waitFor(procs[procs.length - 1]!, '"msg":"listening"');
    }
    for (const n of [1, 2]) start(`worker ${n}`, 'worker', { ...shared, STORYFORGE_WORKERS: '1', STORYFORGE_DATA_DIR: join(dir, `worker-${n}`) });
    for (const p of procs.slice(2)) await waitFor(p, '"msg":"workers started"');
  });

  afterAll(async () => {
    for (const p of procs) p.child.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
    await receiver.stop();
    await s3?.close();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Polls `check` for at most `seconds`; then fails with the end of every process's log. */
  async function within<T>(seconds: number, what: string, check: () => Promise<T | undefined>): Promise<T> {
    const deadline = Date.now() + seconds * 1000;
    for (;;) {
      const value = await check();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`${what}: not after ${seconds} s\n${procs.map((p) => `--- ${p.name}\n${p.out.slice(-3000)}`).join('\n')}`);
      await new Promise((r) => setTimeout(r, 300));
    }
  }

  const gql = async (api: number, query: string, variables: Record<string, unknown> = {}, key = platformKey) => {
    const res = await fetch(`http://127.0.0.1:${ports[api]}/graphql`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as { data?: any; errors?: unknown[] };
    if (body.errors) throw new Error(JSON.stringify(body.errors));
    return body.data;
  };

  it('renders every frame exactly once across a SIGKILL, readable from both APIs, one webhook per job', async () => {
    const key = (await gql(0, `mutation { createProject(input: { name: "Split" }) { secret } }`)).createProject.secret;
    await gql(0, `mutation($url: String!) { createWebhook(input: { url: $url, events: [JOB_SUCCEEDED] }) { webhook { id } } }`, { url: receiver.url }, key);
    const hero = (await gql(0, `mutation { createCharacter(input: { name: "Ada", description: "a person with blue hair", seed: 9 }) { id } }`, {}, key)).createCharacter.id;
    const script = ['standing in the forest', 'walking on the beach', 'jumping in the city', 'sitting at night', 'waving in the snow', 'walking in the desert']
      .map((s) => `Ada ${s}`).join('\n');
    const stories: string[] = [];
    for (const title of ['One', 'Two']) {
      stories.push((await gql(0, `mutation($input: CreateStoryInput!) { createStory(input: $input) { id } }`,
        { input: { title, characterIds: [hero], script, steps: 10 } }, key)).createStory.id);
    }
    const jobs: string[] = [];
    for (const id of stories) jobs.push((await gql(0, `mutation($id: ID!) { generateStory(storyId: $id) { job { id } } }`, { id }, key)).generateStory.job.id);

    // Followed live on the other API process.
    const ws = connectWs(`http://127.0.0.1:${ports[1]}/graphql`, { apiKey: key });
    try {
      const follow = new Subscription(ws.client, `subscription($id: ID!) { jobUpdated(jobId: $id) { status attempts progress { framesDone framesTotal } } }`, { id: jobs[0] });
      // Both workers busy (one job each), each past its first frame: kill one.
      const state = async () => ({ nodes: await Promise.all(jobs.map(async (id) =>
        (await gql(1, `query($id: ID!) { node(id: $id) { ... on GenerationJob { status attempts progress { framesDone } } } }`, { id }, key)).node)) });
      await within(240, 'both jobs running past their first frame', async () => {
        const { nodes } = await state();
        return nodes.every((j: any) => j.status === 'RUNNING' && j.progress.framesDone >= 1) ? true : undefined;
      });
      procs[2]!.child.kill('SIGKILL');
      expect(await procs[2]!.exited).toBe('SIGKILL');

      const done = await within(400, 'both jobs succeeded', async () => {
        const { nodes } = await state();
        return nodes.every((j: any) => j.status === 'SUCCEEDED') ? nodes : undefined;
      });
      // The subscription on API 2 saw the first job through to its end.
      const last = await follow.until((m) => ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(m.data?.jobUpdated?.status));
      expect(last.data.jobUpdated).toMatchObject({ status: 'SUCCEEDED', progress: { framesDone: 6, framesTotal: 6 } });
      // The killed worker's job ran again on the other one.
      expect(done.map((j: any) => j.attempts).sort()).toEqual([1, 2]);
    } finally {
      await ws.dispose();
    }

    // Every frame rendered exactly once, and current.
    const { rows } = await db.owner.query(`SELECT f.id, count(r.id)::int AS renders, count(r.id) FILTER (WHERE r.is_current)::int AS current
      FROM frames f LEFT JOIN renders r ON r.frame_id = f.id GROUP BY f.id`);
    expect(rows).toHaveLength(12);
    expect(rows.every((r: any) => r.renders === 1 && r.current === 1)).toBe(true);

    // Each render readable through both API processes (the bytes are in the bucket, not on either disk).
    const urls = await gql(1, `query($id: ID!) { node(id: $id) { ... on Story { frames { edges { node { currentRender { url } } } } } } }`, { id: stories[0] }, key);
    for (const edge of urls.node.frames.edges) {
      // Absolute under API 1's address; the same signed path is asked of each API.
      const { pathname, search } = new URL(edge.node.currentRender.url);
      const bodies = await Promise.all(ports.map(async (port) => {
        const res = await fetch(`http://127.0.0.1:${port}${pathname}${search}`);
        expect(res.status).toBe(200);
        return Buffer.from(await res.arrayBuffer());
      }));
      expect(bodies[0]!.equals(bodies[1]!)).toBe(true);
    }

    // One delivery per job's success, whichever API process sent it; none more after a pause.
    await within(60, 'two webhook deliveries', async () => (receiver.requests.length >= 2 ? true : undefined));
    await new Promise((r) => setTimeout(r, 3000));
    const events = receiver.requests.map((r) => JSON.parse(r.body) as { type: string; data: { job: { id: string } } });
    expect(events.map((e) => e.type)).toEqual(['job.succeeded', 'job.succeeded']);
    expect(events.map((e) => e.data.job.id).sort()).toEqual([...jobs].sort());
    for (const p of procs.filter((q) => q !== procs[2])) expect({ name: p.name, alive: p.child.exitCode === null }).toEqual({ name: p.name, alive: true });
  });
});
