/**
 * bench/api-during-generation: is the API still responsive while the same process generates?
 * One process runs the API and the generation workers (compute threads). A small query
 * (`viewer { project { name } role }`) is measured twice, side by side: idle, then while two
 * story generations run. Prints both p99s and their ratio (target <= 2).
 *
 *   npm run bench:api-during-generation -- --duration 15 --rate 50 --workers 2
 *   npm run bench:api-during-generation -- --duration 15 --rate 0 --concurrency 4 --workers 2
 *
 * --rate R (default 50): R requests per second on a fixed schedule (open loop, latency from the
 * scheduled time), as a studio's tools make them: the question is how long one request waits.
 * --rate 0: `--concurrency` clients each sending as soon as answered (closed loop): that load alone
 * keeps both cores busy, so the ratio there also measures the throughput generation takes away.
 * --split: the API process takes no jobs; a `storyforge worker` process (the built CLI, with its
 * own lowered priority, STORYFORGE_WORKER_NICE) on the same database and data dir runs them,
 * as a studio deploys API and GPU workers.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { createApiServer } from '../../src/api/server';
import { loadConfig } from '../../src/config';
import { openDatabase } from '../../src/db/database';
import { withTenant } from '../../src/db/tenant-session';
import { createGeneration } from '../../src/generation';
import { Logger } from '../../src/util/logger';
import { startGenerationWorkers } from '../../src/workers/generation-workers';
import type { LoadRequest, LoadResult } from '../api/load-client';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function load(request: LoadRequest): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(join(__dirname, '..', 'api', 'load-client.js'), { workerData: request });
    worker.once('message', resolve);
    worker.once('error', reject);
  });
}

async function main(): Promise<void> {
  const durationMs = Number(arg('duration', '15')) * 1000;
  const concurrency = Number(arg('concurrency', '4'));
  const ratePerSecond = Number(arg('rate', '50'));
  const threads = Number(arg('workers', '2'));
  const split = process.argv.includes('--split');
  const config = { ...loadConfig(), workers: threads, maxActiveJobs: 100 };
  const log = new Logger('warn');
  const database = await openDatabase(config, log);
  const generation = createGeneration(config, database.url, log);
  const server = await createApiServer({ ...config, rateLimitPerMinute: 0 }, database.dataSource, log, generation);
  let child: ChildProcess | undefined;
  const workers = split ? undefined : await startGenerationWorkers(config, database.dataSource, generation, log);
  if (split) child = await startWorkerProcess(database.url, config.dataDir, threads);
  const port = await server.listen(0, '127.0.0.1');
  const url = `http://127.0.0.1:${port}/graphql`;
  const { project, secret } = await server.services.projects.create({ name: `bench during generation ${new Date().toISOString()}` });
  const body = JSON.stringify({ query: '{ viewer { project { id name } role } }' });
  try {
    const storyIds = await withTenant(database.dataSource, project.id, async (session) => {
      const { characters, stories } = server.services;
      const hero = await characters.create(session, { name: 'Bench', description: 'a person with green hair', seed: 5 });
      const script = ['walking in the forest', 'waving on the beach', 'sitting in the snow', 'jumping in the desert', 'standing in the city', 'standing at night'];
      const made = [];
      for (const title of ['One', 'Two']) {
        made.push((await stories.create(session, { title, characterIds: [hero.id], script: [...script, ...script].map((s) => `Bench ${s}`).join('\n') })).id);
      }
      return made;
    });
    const mode = ratePerSecond > 0 ? `${ratePerSecond} requests/s on a fixed schedule (open loop)` : `${concurrency} clients in a closed loop`;
    const placement = split ? `in a storyforge worker process (nice ${config.workerNice})` : 'in the API process';
    process.stdout.write(`bench/api-during-generation: ${mode}, ${durationMs / 1000} s per window, ${threads} compute threads ${placement}; node ${process.version}\n`);
    await load({ url, key: secret, body, concurrency, durationMs: 2000, ratePerSecond }); // warm-up
    const idle = await load({ url, key: secret, body, concurrency, durationMs, ratePerSecond });

    const jobIds = await withTenant(database.dataSource, project.id, async (session) => {
      const actor = { projectId: project.id, keyId: (await session.query<{ id: string }>(`SELECT id FROM api_keys LIMIT 1`))[0]!.id, role: 'editor' as const };
      return [await server.services.jobs.generateStory(session, actor, storyIds[0]!, null), await server.services.jobs.generateStory(session, actor, storyIds[1]!, null)]
        .map((j) => j.id);
    });
    const statuses = () => withTenant(database.dataSource, project.id, (s) =>
      s.query<{ status: string; frames_done: number }>(`SELECT status, frames_done FROM generation_jobs WHERE id = ANY($1::uuid[])`, [jobIds]));
    // One compute thread runs one job at a time: the other waits its turn, queued.
    const running = Math.min(jobIds.length, threads);
    while ((await statuses()).filter((j) => j.status === 'RUNNING').length < running) await new Promise((r) => setTimeout(r, 200));
    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    loopDelay.enable();
    const busy = await load({ url, key: secret, body, concurrency, durationMs, ratePerSecond });
    loopDelay.disable();
    const after = await statuses();

    const row = (name: string, r: LoadResult) => {
      const sorted = [...r.latenciesMs].sort((a, b) => a - b);
      process.stdout.write(`${name.padEnd(28)} ${String(r.latenciesMs.length).padStart(8)} ${(r.latenciesMs.length / (r.elapsedMs / 1000)).toFixed(1).padStart(8)} ` +
        `${percentile(sorted, 50).toFixed(1).padStart(8)} ${percentile(sorted, 99).toFixed(1).padStart(8)} ${String(r.errors).padStart(7)}\n`);
      return percentile(sorted, 99);
    };
    process.stdout.write(`${'window'.padEnd(28)} requests    req/s   p50 ms   p99 ms  errors\n`);
    const idleP99 = row('idle', idle);
    const busyP99 = row('two generations running', busy);
    process.stdout.write(`server event loop delay while generating: p50 ${(loopDelay.percentile(50) / 1e6).toFixed(1)} ms, p99 ${(loopDelay.percentile(99) / 1e6).toFixed(1)} ms, max ${(loopDelay.max / 1e6).toFixed(1)} ms\n`);
    process.stdout.write(`jobs at the end of the busy window: ${after.map((j) => `${j.status} (${j.frames_done} frames)`).join(', ')}\n`);
    process.stdout.write(`p99 while generating / idle p99 = ${(busyP99 / idleP99).toFixed(2)} (target <= 2${split ? ', split mode' : ''})\n`);
  } finally {
    await database.dataSource.query(`UPDATE generation_jobs SET status = 'CANCELLED' WHERE project_id = $1 AND status IN ('QUEUED', 'RUNNING')`, [project.id]);
    await server.stop();
    await workers?.stop(1000);
    if (child) {
      child.kill('SIGTERM');
      await new Promise((r) => child!.once('exit', r));
    }
    await generation.queue.stop(1000);
    await database.dataSource.query(`DELETE FROM projects WHERE id = $1`, [project.id]).catch(() => undefined);
    await database.close();
  }
}

/** `storyforge worker` from the build, on this database; resolves once it takes jobs. */
async function startWorkerProcess(databaseUrl: string, dataDir: string, threads: number): Promise<ChildProcess> {
  const cli = join(__dirname, '..', '..', 'src', 'cli', 'storyforge.js');
  const child = spawn(process.execPath, [cli, 'worker'], {
    env: { ...process.env, DATABASE_URL: databaseUrl, STORYFORGE_DATA_DIR: dataDir, STORYFORGE_WORKERS: String(threads), LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('"msg":"workers started"')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`storyforge worker exited (${code}) before it started:\n${out}`)));
  });
  child.stdout!.resume();
  return child;
}

main().catch((error) => {
  process.stderr.write(String(error?.stack ?? error) + '\n');
  process.exit(1);
});
