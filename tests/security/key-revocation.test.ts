import { loadConfig } from '../../src/config';
import { ApiServer, createApiServer } from '../../src/api/server';
import { EVENTS_CHANNEL } from '../../src/events/publisher';
import { Logger } from '../../src/util/logger';
import { TestApi, startTestApi } from '../support/api-harness';
import { eventually } from '../support/eventually';
import { createStory, decodeId } from '../support/fixtures';
import { Subscription, WsConnection, connectWs } from '../support/ws-client';

const STORY_SUBSCRIPTION = `subscription($id: ID!) { storyUpdated(storyId: $id) { id } }`;
/** Far beyond the test's timeout: only the revocation's announcement can close the sockets. */
const NEVER = 24 * 3600 * 1000;

/**
 * Revoking a key closes its open sockets at once, on every API process: the revocation is a row
 * change announced through PostgreSQL (LISTEN/NOTIFY), not state of the process that revoked it.
 */
describe('key revocation closes open sockets', () => {
  let api: TestApi;
  let other: ApiServer;
  let otherUrl: string;
  let admin: string;
  let storyId: string;
  const open: WsConnection[] = [];

  const connect = (url: string, key: string) => {
    const c = connectWs(url, { apiKey: key });
    open.push(c);
    return c;
  };
  const newKey = async (name: string) => {
    const r = await api.gql(`mutation($name: String!) { createApiKey(input: { name: $name, role: VIEWER }) { apiKey { id } secret } }`, { name }, admin);
    return { id: r.data.createApiKey.apiKey.id as string, secret: r.data.createApiKey.secret as string };
  };
  const revoke = async (id: string) => {
    const r = await api.gql(`mutation($id: ID!) { revokeApiKey(id: $id) { revokedAt } }`, { id }, admin);
    expect(r.data.revokeApiKey.revokedAt).not.toBeNull();
  };

  beforeAll(async () => {
    api = await startTestApi({ wsKeyRecheckMs: NEVER });
    admin = (await api.createProject('Revocations')).secret;
    storyId = (await createStory(api, admin, { title: 'Watched', script: 'one' })).id;
    // A second API process on the same database: its own sockets, hub and LISTEN connection.
    other = await createApiServer({ platformKey: undefined, maxBodyBytes: 1_000_000, rateLimitPerMinute: 0, maxQueryCost: loadConfig({}).maxQueryCost, wsKeyRecheckMs: NEVER },
      api.db.dataSource, new Logger('error', {}, () => undefined));
    otherUrl = `http://127.0.0.1:${await other.listen(0, '127.0.0.1')}/graphql`;
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.dispose()));
  });
  afterAll(async () => {
    await other.stop();
    await api.close();
  });

  it("closes the key's sockets on the process that revoked it and on another, with 4401", async () => {
    const doomed = await newKey('doomed');
    const kept = await newKey('kept');
    const here = connect(api.url, doomed.secret);
    const there = connect(otherUrl, doomed.secret);
    const bystander = connect(otherUrl, kept.secret);
    const subscriptions = [here, there, bystander].map((c) => new Subscription(c.client, STORY_SUBSCRIPTION, { id: storyId }));
    await Promise.all(subscriptions.map((s) => s.next()));

    await revoke(doomed.id);
    const refused = { code: 4401, reason: 'UNAUTHENTICATED: invalid or revoked API key' };
    expect(await here.closed).toEqual(refused);
    expect(await there.closed).toEqual(refused);
    await expect(subscriptions[1].done).rejects.toBeDefined();

    // The other key's socket stays, and still hears changes.
    const update = await api.gql(`mutation($id: ID!) { updateStory(id: $id, input: { title: "Still watched" }) { id } }`, { id: storyId }, admin);
    expect(update.errors).toBeUndefined();
    await subscriptions[2].next();
    // Nothing of the closed sockets is left on either process.
    await eventually(() => other.liveCounts().sockets === 1 && api.server.liveCounts().sockets === 0);
  });

  it('closes nothing on a forged announcement for a key that is still valid', async () => {
    const valid = await newKey('valid');
    const c = connect(otherUrl, valid.secret);
    const sub = new Subscription(c.client, STORY_SUBSCRIPTION, { id: storyId });
    await sub.next();
    const projectId = (await api.db.owner.query(`SELECT project_id FROM api_keys WHERE id = $1`, [decodeId(valid.id)])).rows[0].project_id;
    // Anyone with a database connection can NOTIFY; the key is read again before anything closes.
    await api.db.owner.query(`SELECT pg_notify($1, $2)`, [EVENTS_CHANNEL, JSON.stringify({ type: 'key.revoked', projectId, keyId: decodeId(valid.id) })]);
    // NOTIFYs reach a listener in commit order: once this change is heard, the forged one was too.
    const update = await api.gql(`mutation($id: ID!) { updateStory(id: $id, input: { title: "Heard" }) { id } }`, { id: storyId }, admin);
    expect(update.errors).toBeUndefined();
    expect((await sub.until((m) => m.data?.storyUpdated.id === storyId))).toBeDefined();
    expect(other.liveCounts().sockets).toBe(1);
  });
});
