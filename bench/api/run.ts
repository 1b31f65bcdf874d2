/**
 * bench/api: a 50-frame story (3 characters, a current render per frame) loaded by concurrent
 * clients over HTTP. Prints requests per second, p50/p99 latency and SQL statements per request
 * for each concurrency level. Not a test: figures depend on the machine.
 *
 *   npm run bench:api -- --duration 10 --concurrency 1,8,32
 */
import { randomUUID, createHash } from 'node:crypto';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { createApiServer } from '../../src/api/server';
import { loadConfig } from '../../src/config';
import { openDatabase } from '../../src/db/database';
import type { Character } from '../../src/db/entities/character.entity';
import { withTenant } from '../../src/db/tenant-session';
import { Logger } from '../../src/util/logger';
import type { LoadRequest, LoadResult } from './load-client';

const STORY_QUERY = `query($id: ID!) { node(id: $id) { ... on Story {
  id title characters { id name description }
  frames(first: 50) { edges { node {
    id position prompt caption noCharacter characters { id name }
    currentRender { id seed image { id width height } }
  } } }
} } }`;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function main(): Promise<void> {
  const durationMs = Number(arg('duration', '10')) * 1000;
  const levels = arg('concurrency', '1,8,32').split(',').map(Number);
  const config = { ...loadConfig(), poolSize: 20 };
  const log = new Logger('warn');
  const database = await openDatabase(config, log);
  const { dataSource, stats } = database;
  const server = await createApiServer({ ...config, rateLimitPerMinute: 0 }, dataSource, log);
  const port = await server.listen(0, '127.0.0.1');
  const url = `http://127.0.0.1:${port}/graphql`;

  const { project, secret } = await server.services.projects.create({ name: `bench ${new Date().toISOString()}` });
  try {
    const storyId = await withTenant(dataSource, project.id, async (session) => {
      const { characters, stories } = server.services;
      const cast: Character[] = [];
      for (const name of ['Ann', 'Bo', 'Cy']) cast.push(await characters.create(session, { name, description: `${name}, a hero` }));
      const script = Array.from({ length: 50 }, (_, i) =>
        i % 5 === 0 ? `[NC] scenery ${i}` : i % 3 === 0 ? `[${cast[i % 3].name}] alone ${i} #caption ${i}` : `everyone ${i} #caption ${i}`);
      const story = await stories.create(session, { title: 'Bench', characterIds: cast.map((c) => c.id), script: script.join('\n') });
      const frames = await session.query<{ id: string }>(`SELECT id FROM frames WHERE story_id = $1`, [story.id]);
      for (const frame of frames) {
        const imageId = randomUUID();
        const hash = createHash('sha256').update(imageId).digest('hex');
        await session.query(`INSERT INTO images (id, project_id, content_hash, mime, width, height, byte_size, storage_key)
          VALUES ($1, $2, $3, 'image/png', 64, 64, 2048, $4)`, [imageId, project.id, hash, `bench/${hash}.png`]);
        await session.query(`INSERT INTO renders (project_id, frame_id, image_id, prompt, seed, steps, guidance, scheduler, model, width, height, is_current)
          VALUES ($1, $2, $3, 'p', 1, 10, 5, 'ddim', 'story-world', 64, 64, true)`, [project.id, frame.id, imageId]);
      }
      return Buffer.from(`Story:${story.id}`).toString('base64');
    });
    const body = JSON.stringify({ query: STORY_QUERY, variables: { id: storyId } });

    process.stdout.write(`bench/api: 50-frame story, 3 characters, current renders; ${durationMs / 1000} s per level; node ${process.version}; ` +
      `PostgreSQL ${config.databaseUrl ? 'from DATABASE_URL' : 'embedded'}\n`);
    process.stdout.write('concurrency  requests  req/s    p50 ms  p99 ms  statements/req  errors\n');
    await load({ url, key: secret, body, concurrency: 4, durationMs: 2000 }); // warm-up: JIT, pool, plans
    for (const concurrency of levels) {
      const before = stats.count;
      const result = await load({ url, key: secret, body, concurrency, durationMs });
      const requests = result.latenciesMs.length + result.errors;
      const sorted = [...result.latenciesMs].sort((a, b) => a - b);
      process.stdout.write([
        String(concurrency).padStart(11), String(requests).padStart(9),
        (result.latenciesMs.length / (result.elapsedMs / 1000)).toFixed(1).padStart(7),
        percentile(sorted, 50).toFixed(1).padStart(8), percentile(sorted, 99).toFixed(1).padStart(7),
        ((stats.count - before) / Math.max(requests, 1)).toFixed(2).padStart(15), String(result.errors).padStart(7),
      ].join(' ') + '\n');
    }
  } finally {
    await dataSource.query(`DELETE FROM projects WHERE id = $1`, [project.id]);
    await server.stop();
    await database.close();
  }
}

function load(request: LoadRequest): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(join(__dirname, 'load-client.js'), { workerData: request });
    worker.once('message', resolve);
    worker.once('error', reject);
  });
}

main().catch((error) => {
  process.stderr.write(String(error?.stack ?? error) + '\n');
  process.exit(1);
});
