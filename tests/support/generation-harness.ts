import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiConfig, createApiServer } from '../../src/api/server';
import { loadConfig } from '../../src/config';
import { generateSecret } from '../../src/domain/api-keys/key-secret';
import { Generation, createGeneration } from '../../src/generation';
import { Logger } from '../../src/util/logger';
import { GenerationWorkers, startGenerationWorkers } from '../../src/workers/generation-workers';
import type { GqlResult, TestApi } from './api-harness';
import { createTestDatabase } from './test-db';

export interface GenerationApi extends TestApi {
  generation: Generation;
  workers: GenerationWorkers | undefined;
  dataDir: string;
  /** GraphQL with extra headers (Idempotency-Key). */
  gqlWith<T = any>(headers: Record<string, string>, query: string, variables?: Record<string, unknown>, key?: string): Promise<GqlResult<T>>;
  /** Polls the job until it has finished; returns it. */
  waitForJob(jobId: string, key: string): Promise<any>;
}

export interface GenerationApiOptions {
  /** Compute threads; 0: no workers (jobs stay queued). */
  workers?: number;
  maxActiveJobs?: number;
  env?: Record<string, string>;
  /** Passed to the API server (metricsToken, ...). */
  api?: Partial<ApiConfig>;
}

export const JOB_FIELDS = `id kind status attempts progress { step total framesDone framesTotal } error { code message }`;

/** A test API with the job system: its own data dir (images, banks, URL secret), the real queue and, optionally, workers. */
export async function startGenerationApi(options: GenerationApiOptions = {}): Promise<GenerationApi> {
  const db = await createTestDatabase();
  const dataDir = mkdtempSync(join(tmpdir(), 'sf-gen-'));
  const config = {
    ...loadConfig({ STORYFORGE_DATA_DIR: dataDir, STORYFORGE_QUEUE_MAINTENANCE_SECONDS: '1', STORYFORGE_JOB_RETRY_DELAY_SECONDS: '1', ...options.env }),
    workers: options.workers ?? 1,
    ...(options.maxActiveJobs ? { maxActiveJobs: options.maxActiveJobs } : {}),
  };
  const platformKey = generateSecret('platform');
  const logs: string[] = [];
  const log = new Logger('debug', { service: 'test' }, (line) => logs.push(line));
  const generation = createGeneration(config, db.url, log);
  const server = await createApiServer({ platformKey, maxBodyBytes: 1_000_000, rateLimitPerMinute: 0, maxQueryCost: loadConfig({}).maxQueryCost, ...options.api },
    db.dataSource, log, generation);
  // One process: the workers record into the server's metrics, as in the app.
  const workers = config.workers > 0 ? await startGenerationWorkers(config, db.dataSource, generation, log, server.metrics) : undefined;
  const port = await server.listen(0, '127.0.0.1');
  const url = `http://127.0.0.1:${port}/graphql`;

  const gqlWith = async <T>(headers: Record<string, string>, query: string, variables: Record<string, unknown> = {}, key?: string): Promise<GqlResult<T>> => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { data?: T; errors?: GqlResult['errors'] };
    return { status: response.status, data: body.data ?? undefined, errors: body.errors };
  };
  const gql = <T>(query: string, variables?: Record<string, unknown>, key?: string) => gqlWith<T>({}, query, variables, key);

  const api: GenerationApi = {
    db, server, url, platformKey, logs, gql, gqlWith, generation, workers, dataDir,
    createProject: async (name) => {
      const r = await gql<any>(`mutation($name: String!) { createProject(input: { name: $name }) { project { id } secret } }`, { name }, platformKey);
      if (r.errors) throw new Error(JSON.stringify(r.errors));
      return { secret: r.data.createProject.secret, projectId: r.data.createProject.project.id };
    },
    waitForJob: async (jobId, key) => {
      for (;;) {
        const r = await gql<any>(`query($id: ID!) { node(id: $id) { ... on GenerationJob { ${JOB_FIELDS} } } }`, { id: jobId }, key);
        if (r.errors) throw new Error(JSON.stringify(r.errors));
        if (['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(r.data.node.status)) return r.data.node;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    },
    close: async () => {
      await server.stop();
      await workers?.stop(1000);
      await generation.queue.stop(1000);
      await db.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return api;
}
