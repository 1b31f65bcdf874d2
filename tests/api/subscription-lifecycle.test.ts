import { TestApi, startTestApi } from '../support/api-harness';
import { eventually } from '../support/eventually';
import { createStory } from '../support/fixtures';
import { RawMessage, RawWs } from '../support/raw-ws';

const STORY_SUBSCRIPTION = `subscription($id: ID!) { storyUpdated(storyId: $id) { id title } }`;

/**
 * A subscription ends when its client says so (`complete`) or goes away (the socket closes or
 * drops), at once: not at the next change of what it follows, which for an idle story never
 * comes. Checked with the server's own counts of open sockets, running operations and event
 * watchers, which must come back to where they were.
 */
describe('subscription lifecycle', () => {
  let api: TestApi;
  let key: string;
  let storyId: string;
  const open: RawWs[] = [];

  const counts = () => api.server.liveCounts();
  const socket = () => {
    const ws = new RawWs(api.url);
    open.push(ws);
    return ws;
  };
  const subscribe = async (ws: RawWs, id: string) => {
    const first = ws.next((m) => m.id === id);
    await ws.send({ type: 'subscribe', id, payload: { query: STORY_SUBSCRIPTION, variables: { id: storyId } } });
    expect(await first).toMatchObject({ type: 'next', payload: { data: { storyUpdated: { id: storyId } } } });
  };
  /** Every message the server sent before this returns has arrived (one socket keeps its order). */
  const roundTrip = async (ws: RawWs) => {
    const pong = ws.next((m) => m.type === 'pong');
    await ws.send({ type: 'ping' });
    await pong;
  };
  const nextsFor = (ws: RawWs, id: string) => ws.messages.filter((m: RawMessage) => m.id === id && m.type === 'next');

  beforeAll(async () => {
    api = await startTestApi();
    key = (await api.createProject('Lifecycle')).secret;
    storyId = (await createStory(api, key, { title: 'Idle story', script: 'one' })).id;
  });
  // Each test starts from a server without sockets, so its baseline is its own.
  afterEach(async () => {
    await Promise.all(open.splice(0).map((ws) => {
      ws.close();
      return ws.closed;
    }));
    await eventually(() => counts().sockets === 0);
  });
  afterAll(() => api.close());

  it('ends a completed subscription at once: nothing left watching, no next for its id afterwards', async () => {
    const ws = socket();
    await ws.init({ apiKey: key });
    const connected = counts();
    expect(connected.sockets).toBeGreaterThan(0);

    // The repro: the same id subscribed and completed three times, then one change.
    for (let i = 0; i < 3; i++) {
      await subscribe(ws, 's1');
      await ws.send({ type: 'complete', id: 's1' });
    }
    // Before any change to the story: every completed subscription has let go.
    await eventually(() => JSON.stringify(counts()) === JSON.stringify(connected));

    await subscribe(ws, 'witness');
    const changed = ws.next((m) => m.id === 'witness' && m.payload?.data?.storyUpdated?.title === 'Renamed');
    const update = await api.gql(`mutation($id: ID!) { updateStory(id: $id, input: { title: "Renamed" }) { id } }`, { id: storyId }, key);
    expect(update.errors).toBeUndefined();
    await changed;
    await roundTrip(ws);

    expect(nextsFor(ws, 's1')).toHaveLength(3); // the current state once per subscribe, nothing after its complete
    expect(nextsFor(ws, 'witness')).toHaveLength(2);
    await ws.send({ type: 'complete', id: 'witness' });
    await eventually(() => JSON.stringify(counts()) === JSON.stringify(connected));
  });

  it('ends the subscriptions of a socket that dropped, and forgets the socket', async () => {
    const before = counts();
    const ws = socket();
    await ws.init({ apiKey: key });
    for (const id of ['a', 'b', 'c']) await subscribe(ws, id);
    expect(counts().operations).toBe(before.operations + 3);
    expect(counts().watchers).toBeGreaterThanOrEqual(before.watchers + 3);

    ws.terminate(); // no close handshake: the network went away
    await eventually(() => JSON.stringify(counts()) === JSON.stringify(before));

    const idle = await api.db.owner.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'`);
    expect(idle.rows[0].n).toBe(0);
  });

  it('ends the subscriptions of a socket its client closed', async () => {
    const before = counts();
    const ws = socket();
    await ws.init({ apiKey: key });
    await subscribe(ws, 'x');
    ws.close();
    await ws.closed;
    await eventually(() => JSON.stringify(counts()) === JSON.stringify(before));
  });
});
