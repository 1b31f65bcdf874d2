import { loadConfig } from '../../src/config';
import { ApiServer, createApiServer } from '../../src/api/server';
import { Logger } from '../../src/util/logger';
import { TestApi, startTestApi } from '../support/api-harness';
import { RawWs } from '../support/raw-ws';

const PER_MINUTE = 3;
const INVALID_KEY = 'Bearer sfk_not-a-key-of-anyone-000000000000000000000';

/**
 * Work without a valid key is budgeted per client address: requests without a key, and key
 * lookups that found nothing (each costs a database query), PER_MINUTE a minute each. Past it,
 * 429 RATE_LIMITED with retryAfterSeconds and Retry-After. The tests stand behind one trusted
 * proxy, so X-Forwarded-For gives each case an address of its own.
 */
describe('rate limit per client address', () => {
  let api: TestApi;
  let key: string;

  beforeAll(async () => {
    api = await startTestApi({ addressRateLimitPerMinute: PER_MINUTE, trustedProxies: 1 });
    key = `Bearer ${(await api.createProject('Limited')).secret}`;
  });
  afterAll(() => api.close());

  async function post(address: string, authorization?: string, url = api.url) {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': address, ...(authorization ? { authorization } : {}) },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    return { status: response.status, retryAfter: response.headers.get('retry-after'), body: (await response.json()) as any };
  }

  function expectLimited(r: Awaited<ReturnType<typeof post>>) {
    expect(r.status).toBe(429);
    const [error] = r.body.errors;
    expect(error.extensions.code).toBe('RATE_LIMITED');
    expect(Number.isInteger(error.extensions.retryAfterSeconds) && error.extensions.retryAfterSeconds >= 1).toBe(true);
    expect(r.retryAfter).toBe(String(error.extensions.retryAfterSeconds));
    expect(error.extensions).not.toHaveProperty('http');
  }

  it('refuses key-less requests past the budget, from that address only, and never its valid keys', async () => {
    for (let i = 0; i < PER_MINUTE; i++) expect((await post('203.0.113.1')).status).toBe(200);
    expectLimited(await post('203.0.113.1'));
    expect((await post('203.0.113.2')).status).toBe(200);
    expect((await post('203.0.113.1', key)).status).toBe(200);
  });

  it('counts a malformed Authorization header as a request without a key', async () => {
    for (let i = 0; i < PER_MINUTE; i++) expect((await post('203.0.113.3', 'Basic abc')).status).toBe(401);
    expectLimited(await post('203.0.113.3', 'Basic abc'));
  });

  it('stops looking up keys from an address whose lookups keep failing', async () => {
    api.db.stats.recorded = [];
    try {
      for (let i = 0; i < PER_MINUTE; i++) expect((await post('198.51.100.7', INVALID_KEY)).status).toBe(401);
      const lookups = () => api.db.stats.recorded!.filter((sql) => sql.includes('key_hash')).length;
      expect(lookups()).toBe(PER_MINUTE);
      expectLimited(await post('198.51.100.7', INVALID_KEY));
      // Even a valid key: telling it apart would cost the lookup the limit saves.
      expectLimited(await post('198.51.100.7', key));
      expect(lookups()).toBe(PER_MINUTE);
    } finally {
      api.db.stats.recorded = null;
    }
    expect((await post('198.51.100.8', key)).status).toBe(200);
  });

  it('keeps an IPv6 client under its /64', async () => {
    for (const address of ['2001:db8::1', '2001:db8::2', '2001:db8:0:0:ffff::1']) expect((await post(address)).status).toBe(200);
    expectLimited(await post('2001:db8:0:0:1::9'));
    expect((await post('2001:db8:0:1::1')).status).toBe(200);
  });

  it('refuses graphql-ws connections the same way, closing with 4429', async () => {
    const attempt = async (connectionParams: Record<string, unknown>) => {
      const ws = new RawWs(api.url, { 'x-forwarded-for': '192.0.2.50' });
      await ws.send({ type: 'connection_init', payload: connectionParams });
      return ws.closed;
    };
    for (let i = 0; i < PER_MINUTE; i++) {
      expect(await attempt({ authorization: INVALID_KEY })).toEqual({ code: 4401, reason: 'UNAUTHENTICATED: invalid or revoked API key' });
    }
    expect(await attempt({ authorization: INVALID_KEY })).toEqual({ code: 4429, reason: expect.stringMatching(/^RATE_LIMITED: too many invalid API keys from this address; retry in \d+ s$/) });
    for (let i = 0; i < PER_MINUTE; i++) expect((await attempt({})).code).toBe(4401);
    expect((await attempt({})).code).toBe(4429);
  });

  describe('without trusted proxies', () => {
    let direct: ApiServer;
    let url: string;

    beforeAll(async () => {
      direct = await createApiServer({ platformKey: undefined, maxBodyBytes: 1_000_000, rateLimitPerMinute: 0, maxQueryCost: loadConfig({}).maxQueryCost, addressRateLimitPerMinute: PER_MINUTE },
        api.db.dataSource, new Logger('error', {}, () => undefined));
      url = `http://127.0.0.1:${await direct.listen(0, '127.0.0.1')}/graphql`;
    });
    afterAll(() => direct.stop());

    it('ignores X-Forwarded-For: a client cannot pick a fresh address per request', async () => {
      for (let i = 0; i < PER_MINUTE; i++) expect((await post(`203.0.113.${100 + i}`, undefined, url)).status).toBe(200);
      expectLimited(await post('203.0.113.200', undefined, url));
    });
  });
});
