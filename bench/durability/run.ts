/**
 * bench/durability: kills the server with SIGKILL in the middle of a generation and starts it
 * again, `--kills` times (default 10), then checks what is left: every job finished exactly once
 * (SUCCEEDED, one completed queue entry), every frame of every job has its render and exactly one
 * current render, no (job, frame) has two renders. Prints the counts; exits 1 if a check fails.
 *
 *   npm run bench:durability -- --kills 10 --frames 4 --steps 10
 *
 * PostgreSQL: DATABASE_URL's server (a fresh database is made on it), else an embedded server of
 * this script's own, so the killed server never takes the database down with it. Attempts of a
 * killed server are retried once they expire (STORYFORGE_JOB_EXPIRE_SECONDS, 60 s here).
 */
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { generateSecret } from '../../src/domain/api-keys/key-secret';
import { startEmbeddedPostgres } from '../../src/db/embedded-postgres';
import { freePort } from '../../src/util/free-port';
import { Logger } from '../../src/util/logger';
import { projectRoot } from '../../src/util/project-root';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? Number(process.argv[i + 1]) : fallback;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const kills = arg('kills', 10);
  const frameCount = arg('frames', 4);
  const steps = arg('steps', 10);
  const work = mkdtempSync(join(tmpdir(), 'sf-durability-'));
  const log = new Logger('warn');
  const embedded = process.env.DATABASE_URL ? undefined : await startEmbeddedPostgres(join(work, 'pg'), log);
  const adminUrl = process.env.DATABASE_URL ?? embedded!.url;
  const dbName = `storyforge_durability_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  const url = new URL(adminUrl);
  url.pathname = `/${dbName}`;
  const port = await freePort();
  const platformKey = generateSecret('platform');
  const api = `http://127.0.0.1:${port}/graphql`;
  let server: ChildProcess | undefined;

  const start = async () => {
    server = spawn(process.execPath, [join(projectRoot(), 'dist', 'src', 'main.js')], {
      env: { ...process.env, DATABASE_URL: url.toString(), PORT: String(port), HOST: '127.0.0.1', STORYFORGE_DATA_DIR: join(work, 'data'),
        STORYFORGE_PLATFORM_KEY: platformKey, STORYFORGE_WORKERS: '1', STORYFORGE_JOB_EXPIRE_SECONDS: '60',
        STORYFORGE_QUEUE_MAINTENANCE_SECONDS: '2', STORYFORGE_JOB_RETRIES: '5', STORYFORGE_JOB_RETRY_DELAY_SECONDS: '1',
        STORYFORGE_MAX_ACTIVE_JOBS: '100', LOG_LEVEL: 'error' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    while (!(await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false))) {
      if (server.exitCode !== null) throw new Error(`the server exited with ${server.exitCode}`);
      await sleep(200);
    }
  };
  const kill = async () => {
    const s = server!;
    const exited = new Promise((r) => s.once('exit', r));
    s.kill('SIGKILL');
    await exited;
  };
  const gql = async (query: string, variables: Record<string, unknown> = {}, key?: string): Promise<any> => {
    for (;;) {
      try {
        const r = await fetch(api, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify({ query, variables }) });
        const body = (await r.json()) as { data?: any; errors?: unknown[] };
        if (body.errors) throw new Error(JSON.stringify(body.errors));
        return body.data;
      } catch (error) {
        if (!(error instanceof TypeError)) throw error; // TypeError: the server is down (restarting); try again
        await sleep(300);
      }
    }
  };

  const db = new Client({ connectionString: url.toString() });
  try {
    await start();
    await db.connect();
    const key = (await gql(`mutation { createProject(input: { name: "Durability" }) { secret } }`, {}, platformKey)).createProject.secret;
    const character = (await gql(`mutation { createCharacter(input: { name: "Kit", description: "a person with red hair", seed: 11 }) { id } }`, {}, key)).createCharacter;
    const script = ['walking in the forest', 'waving on the beach', 'sitting in the snow', 'jumping in the desert', 'standing in the city', 'standing at night'];
    const jobs: string[] = [];
    process.stdout.write(`bench/durability: ${kills} SIGKILLs during generation; ${frameCount}-frame stories at ${steps} steps; node ${process.version}\n`);
    for (let k = 0; k < kills; k++) {
      const story = (await gql(`mutation($c: ID!, $s: String!, $steps: Int!) { createStory(input: { title: "Run ${k + 1}", characterIds: [$c], script: $s, steps: $steps, seed: ${k} }) { id } }`,
        { c: character.id, s: Array.from({ length: frameCount }, (_, i) => `Kit ${script[(i + k) % script.length]}`).join('\n'), steps }, key)).createStory;
      const job = (await gql(`mutation($id: ID!) { generateStory(storyId: $id) { job { id } } }`, { id: story.id }, key)).generateStory.job;
      jobs.push(job.id);
      // Kill at a different point each time: during the bank build, or after 1, 2, ... frames.
      const killAfterFrames = k % (frameCount + 1);
      let seen = '';
      for (;;) {
        const { node } = await gql(`query($id: ID!) { node(id: $id) { ... on GenerationJob { status progress { step framesDone } } } }`, { id: job.id }, key);
        seen = `${node.status} ${node.progress.framesDone}/${frameCount} frames, step ${node.progress.step}`;
        if (node.status === 'SUCCEEDED' || node.status === 'FAILED' || node.status === 'CANCELLED') break;
        if (node.status === 'RUNNING' && (killAfterFrames === 0 ? node.progress.step > 0 : node.progress.framesDone >= killAfterFrames)) break;
        await sleep(100);
      }
      await kill();
      process.stdout.write(`  kill ${k + 1}: SIGKILL at ${seen}\n`);
      await start();
    }
    // Let every job finish (killed attempts are retried after they expire).
    for (;;) {
      const { rows } = await db.query(`SELECT count(*)::int AS n FROM generation_jobs WHERE status IN ('QUEUED', 'RUNNING')`);
      if (rows[0].n === 0) break;
      await sleep(1000);
    }
    const one = async (sql: string) => (await db.query(sql)).rows[0];
    const counts = {
      kills,
      jobs: jobs.length,
      succeeded: (await one(`SELECT count(*)::int AS n FROM generation_jobs WHERE status = 'SUCCEEDED'`)).n,
      failed: (await one(`SELECT count(*)::int AS n FROM generation_jobs WHERE status <> 'SUCCEEDED'`)).n,
      attempts: (await one(`SELECT sum(attempts)::int AS n FROM generation_jobs`)).n,
      queueEntriesCompleted: (await one(`SELECT count(*)::int AS n FROM pgboss.job WHERE name LIKE 'generate.story-world' AND state = 'completed'`)).n,
      queueEntriesOther: (await one(`SELECT count(*)::int AS n FROM pgboss.job WHERE name LIKE 'generate.story-world' AND state <> 'completed'`)).n,
      frames: (await one(`SELECT count(*)::int AS n FROM frames`)).n,
      renders: (await one(`SELECT count(*)::int AS n FROM renders`)).n,
      framesWithoutRender: (await one(`SELECT count(*)::int AS n FROM frames f WHERE NOT EXISTS (SELECT 1 FROM renders r WHERE r.frame_id = f.id)`)).n,
      framesWithoutCurrent: (await one(`SELECT count(*)::int AS n FROM frames f WHERE NOT EXISTS (SELECT 1 FROM renders r WHERE r.frame_id = f.id AND r.is_current)`)).n,
      framesWithTwoCurrent: (await one(`SELECT count(*)::int AS n FROM (SELECT frame_id FROM renders WHERE is_current GROUP BY 1 HAVING count(*) > 1) x`)).n,
      jobFramesRenderedTwice: (await one(`SELECT count(*)::int AS n FROM (SELECT job_id, frame_id FROM renders GROUP BY 1, 2 HAVING count(*) > 1) x`)).n,
    };
    for (const [name, value] of Object.entries(counts)) process.stdout.write(`  ${name.padEnd(24)} ${value}\n`);
    const ok = counts.succeeded === jobs.length && counts.failed === 0 && counts.queueEntriesCompleted === jobs.length
      && counts.queueEntriesOther === 0 && counts.framesWithoutRender === 0 && counts.framesWithoutCurrent === 0
      && counts.framesWithTwoCurrent === 0 && counts.jobFramesRenderedTwice === 0 && counts.renders === counts.frames;
    process.stdout.write(ok ? 'every job completed exactly once; every frame has exactly one current render\n' : 'CHECK FAILED\n');
    process.exitCode = ok ? 0 : 1;
  } finally {
    if (server && server.exitCode === null) await kill();
    await db.end().catch(() => undefined);
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
    await embedded?.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error) => {
  process.stderr.write(String(error?.stack ?? error) + '\n');
  process.exit(1);
});
