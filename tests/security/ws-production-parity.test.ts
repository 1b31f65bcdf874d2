import { loadConfig } from '../../src/config';
import { TestApi, startTestApi } from '../support/api-harness';
import { Subscription, WsConnection, connectWs } from '../support/ws-client';

const INTROSPECTION = [
  ['__schema', '{ __schema { queryType { name } } }'],
  ['__type', '{ __type(name: "Story") { fields { name } } }'],
];
/** Misspelt names graphql-js would complete: a field, an argument, an enum value, an input field. */
const MISSPELT = [
  ['a field', 'query { viewr { role } }', 'viewer'],
  ['an argument', 'query { stories(frist: 1) { edges { cursor } } }', 'first'],
  ['an enum value', 'query { jobs(status: RUNING) { edges { cursor } } }', 'RUNNING'],
  ['an input field', 'mutation { createStory(input: { titel: "T" }) { id } }', 'title'],
  ['a subscription field', 'subscription { storyUpdatd(storyId: "x") { id } }', 'storyUpdated'],
];

/**
 * graphql-ws answers what HTTP answers. With the production configuration (NODE_ENV=production)
 * introspection is off on both; neither ever suggests a name of the schema.
 */
describe('graphql-ws parity with HTTP', () => {
  const open: WsConnection[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.dispose()));
  });

  const overWs = async (api: TestApi, key: string, query: string) => {
    const c = connectWs(api.url, { apiKey: key });
    open.push(c);
    const operation = new Subscription(c.client, query);
    try {
      await operation.done;
      return { data: operation.messages[0]?.data, errors: operation.messages[0]?.errors };
    } catch (errors) {
      return { data: undefined, errors: errors as { message: string; extensions?: { code?: string } }[] };
    }
  };

  describe('in production', () => {
    let api: TestApi;
    let key: string;

    beforeAll(async () => {
      const production = loadConfig({ NODE_ENV: 'production' });
      expect(production.introspection).toBe(false);
      api = await startTestApi({ introspection: production.introspection });
      key = (await api.createProject('Production')).secret;
    });
    afterAll(() => api.close());

    it.each(INTROSPECTION)('refuses %s over HTTP and over graphql-ws alike', async (_what, query) => {
      const http = await api.gql(query, {}, key);
      const ws = await overWs(api, key, query);
      expect(http.status).toBe(400);
      expect(http.errors?.length).toBeGreaterThan(0);
      for (const error of http.errors ?? []) {
        expect(error.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
        expect(error.message).toMatch(/introspection/);
      }
      expect(ws.data).toBeUndefined();
      expect(ws.errors).toEqual(http.errors);
    });

    it('still answers __typename on both', async () => {
      expect((await api.gql('{ __typename }', {}, key)).data).toEqual({ __typename: 'Query' });
      expect((await overWs(api, key, '{ __typename }')).data).toEqual({ __typename: 'Query' });
    });

    it.each(MISSPELT)('suggests no name for %s, over HTTP or graphql-ws', async (_what, query, name) => {
      const http = await api.gql(query, {}, key);
      const ws = await overWs(api, key, query);
      for (const errors of [http.errors, ws.errors]) {
        expect(errors?.length).toBeGreaterThan(0);
        expect(errors?.every((e) => e.extensions?.code === 'GRAPHQL_VALIDATION_FAILED')).toBe(true);
        expect(JSON.stringify(errors)).not.toMatch(/Did you mean/);
        expect(JSON.stringify(errors)).not.toContain(`"${name}"`);
      }
      expect(ws.errors).toEqual(http.errors);
    });
  });

  describe('in development', () => {
    let api: TestApi;
    let key: string;

    beforeAll(async () => {
      api = await startTestApi({ introspection: loadConfig({}).introspection });
      key = (await api.createProject('Development')).secret;
    });
    afterAll(() => api.close());

    it.each(INTROSPECTION)('answers %s over HTTP and over graphql-ws alike', async (_what, query) => {
      const http = await api.gql(query, {}, key);
      expect(http.errors).toBeUndefined();
      expect(await overWs(api, key, query)).toEqual({ data: http.data, errors: undefined });
    });
  });
});
