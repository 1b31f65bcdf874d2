import { loadConfig } from '../../src/config';
import { ApiServer, createApiServer, ApiConfig } from '../../src/api/server';
import { generateSecret } from '../../src/domain/api-keys/key-secret';
import { Logger } from '../../src/util/logger';
import { TestDatabase, createTestDatabase } from './test-db';

export interface GqlResult<T = any> {
  status: number;
  data?: T;
  errors?: { message: string; path?: string[]; extensions?: { code?: string; field?: string; [k: string]: unknown } }[];
}

export interface TestApi {
  db: TestDatabase;
  server: ApiServer;
  url: string;
  platformKey: string;
  /** Every JSON log line the server wrote. */
  logs: string[];
  gql<T = any>(query: string, variables?: Record<string, unknown>, key?: string): Promise<GqlResult<T>>;
  /** A new project through the API; returns its admin secret and global id. */
  createProject(name: string): Promise<{ secret: string; projectId: string }>;
  close(): Promise<void>;
}

export async function startTestApi(overrides: Partial<ApiConfig> = {}): Promise<TestApi> {
  const db = await createTestDatabase();
  const platformKey = generateSecret('platform');
  const logs: string[] = [];
  const log = new Logger('debug', { service: 'test' }, (line) => logs.push(line));
  const server = await createApiServer(
    { platformKey, maxBodyBytes: 1_000_000, rateLimitPerMinute: 0, addressRateLimitPerMinute: 0, maxQueryCost: loadConfig({}).maxQueryCost, ...overrides },
    db.dataSource, log);
  const port = await server.listen(0, '127.0.0.1');
  const url = `http://127.0.0.1:${port}/graphql`;

  const gql = async <T>(query: string, variables: Record<string, unknown> = {}, key?: string): Promise<GqlResult<T>> => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { data?: T; errors?: GqlResult['errors'] };
    return { status: response.status, data: body.data ?? undefined, errors: body.errors };
  };

  return {
    db, server, url, platformKey, logs, gql,
    createProject: async (name) => {
      const r = await gql<any>(`mutation($name: String!) { createProject(input: { name: $name }) { project { id } secret } }`,
        { name }, platformKey);
      if (r.errors) throw new Error(JSON.stringify(r.errors));
      return { secret: r.data.createProject.secret, projectId: r.data.createProject.project.id };
    },
    close: async () => {
      await server.stop();
      await db.drop();
    },
  };
}

/** The one error of a result, asserting there is exactly one. */
export function onlyError(result: GqlResult) {
  if (!result.errors || result.errors.length !== 1) throw new Error(`expected one error, got ${JSON.stringify(result.errors ?? result.data)}`);
  return result.errors[0];
}
