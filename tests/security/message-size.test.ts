import { TestApi, startTestApi } from '../support/api-harness';
import { createStory } from '../support/fixtures';
import { RawWs } from '../support/raw-ws';

const LIMIT = 10_000;

/**
 * One size limit (STORYFORGE_MAX_BODY_BYTES) for an HTTP body and for each WebSocket message,
 * needed before any key is checked: `ws` defaulted to 100 MiB, so one connection_init without a
 * key could make the server buffer and parse that much, and operations sent over a socket escaped
 * the HTTP limit.
 */
describe('message size limit, HTTP and graphql-ws alike', () => {
  let api: TestApi;
  let key: string;
  let storyId: string;
  const open: RawWs[] = [];
  const socket = () => {
    const ws = new RawWs(api.url);
    open.push(ws);
    return ws;
  };

  beforeAll(async () => {
    api = await startTestApi({ maxBodyBytes: LIMIT });
    key = (await api.createProject('Sizes')).secret;
    storyId = (await createStory(api, key, { title: 'Small', script: 'one' })).id;
  });
  afterEach(() => open.splice(0).forEach((ws) => ws.close()));
  afterAll(() => api.close());

  const noErrorLogs = () => expect(api.logs.filter((line) => JSON.parse(line).level === 'error')).toEqual([]);

  it('closes a socket whose connection_init is over the limit with 1009, before any key check', async () => {
    const ws = socket();
    await ws.send({ type: 'connection_init', payload: { pad: 'x'.repeat(2 * LIMIT) } });
    expect((await ws.closed).code).toBe(1009); // Message Too Big
    expect(ws.messages).toEqual([]);
    noErrorLogs();
  });

  it('closes a socket whose operation is over the limit, as HTTP refuses the same body', async () => {
    const payload = { query: `subscription($id: ID!) { storyUpdated(storyId: $id) { id } }`, variables: { id: storyId, pad: 'x'.repeat(2 * LIMIT) } };
    const http = await fetch(api.url, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify(payload),
    });
    expect(http.status).toBe(413);

    const ws = socket();
    await ws.init({ apiKey: key });
    await ws.send({ type: 'subscribe', id: 'big', payload });
    expect((await ws.closed).code).toBe(1009);
    expect(ws.messages.map((m) => m.type)).toEqual(['connection_ack']);
    noErrorLogs();
  });

  it('takes a message just under the limit', async () => {
    const ws = socket();
    await ws.init({ apiKey: key });
    const message = { type: 'subscribe', id: 'fits', payload: { query: `subscription($id: ID!) { storyUpdated(storyId: $id) { id } }`, variables: { id: storyId, pad: '' } } };
    message.payload.variables.pad = 'x'.repeat(LIMIT - JSON.stringify(message).length);
    expect(Buffer.byteLength(JSON.stringify(message))).toBe(LIMIT);
    const first = ws.next((m) => m.id === 'fits');
    await ws.send(message);
    expect(await first).toMatchObject({ type: 'next', payload: { data: { storyUpdated: { id: storyId } } } });
  });
});
