import { TestApi, onlyError, startTestApi } from '../support/api-harness';
import { createStory, tableCounts } from '../support/fixtures';
import { Subscription, connectWs } from '../support/ws-client';

const GRAPHQL_RESPONSE = 'application/graphql-response+json';

/**
 * A client's mistakes are answered as such: a 4xx status (or the spec's 200 for a client that asks
 * for application/json by name), a stable `extensions.code`, no log line above info, and nothing
 * written. They used to be answered 500 and logged as server errors.
 */
describe('client mistakes', () => {
  let api: TestApi;
  let key: string;

  beforeAll(async () => {
    api = await startTestApi();
    key = (await api.createProject('Mistakes')).secret;
  });
  afterAll(() => api.close());

  async function post(body: unknown, accept?: string) {
    const response = await fetch(api.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, ...(accept ? { accept } : {}) },
      body: JSON.stringify(body),
    });
    return { status: response.status, contentType: response.headers.get('content-type'), body: (await response.json()) as any };
  }

  /** Log lines above info written while `work` ran. */
  async function loudLogsDuring(work: () => Promise<void>): Promise<string[]> {
    const from = api.logs.length;
    await work();
    return api.logs.slice(from).filter((line) => ['warn', 'error'].includes(JSON.parse(line).level));
  }

  const MISTAKES: [string, Record<string, unknown>, string][] = [
    ['a variable of the wrong type', { query: 'query($f: Int) { stories(first: $f) { edges { node { id } } } }', variables: { f: 'abc' } }, 'BAD_USER_INPUT'],
    ['a document over the token limit', { query: `{ ${'viewer { role } '.repeat(600)} }` }, 'GRAPHQL_PARSE_FAILED'],
    ['a document that does not parse', { query: '{' }, 'GRAPHQL_PARSE_FAILED'],
    ['a field that does not exist', { query: '{ nothingHere }' }, 'GRAPHQL_VALIDATION_FAILED'],
    ['a null for a non-null argument', { query: 'query($id: ID = "x") { node(id: $id) { id } }', variables: { id: null } }, 'BAD_USER_INPUT'],
    ['a subscription (they run over graphql-ws)', { query: 'subscription($id: ID!) { storyUpdated(storyId: $id) { id } }', variables: { id: 'x' } }, 'BAD_REQUEST'],
  ];

  describe.each([
    ['no Accept header', undefined, 400, 'application/json'],
    ['Accept: */*', '*/*', 400, 'application/json'],
    [`Accept: ${GRAPHQL_RESPONSE}`, GRAPHQL_RESPONSE, 400, GRAPHQL_RESPONSE],
    [`Accept: ${GRAPHQL_RESPONSE}, application/json;q=0.9 (what current clients send)`, `${GRAPHQL_RESPONSE}, application/json;q=0.9`, 400, GRAPHQL_RESPONSE],
    // The GraphQL-over-HTTP spec: a client that names application/json gets 200 with the errors.
    ['Accept: application/json', 'application/json', 200, 'application/json'],
  ])('with %s', (_label, accept, status, contentType) => {
    it.each(MISTAKES)(`answers %s with ${status} and a stable code, logging nothing above info`, async (_what, body, code) => {
      let response!: Awaited<ReturnType<typeof post>>;
      expect(await loudLogsDuring(async () => { response = await post(body, accept); })).toEqual([]);
      expect(response.status).toBe(status);
      expect(response.contentType).toContain(contentType);
      expect(response.body.errors.map((e: any) => e.extensions.code)).toEqual([code]);
      expect(response.body).not.toHaveProperty('data');
    });
  });

  it('names the variable and the expected type, and suggests nothing', async () => {
    const r = await post({ query: 'query($s: JobStatus) { jobs(status: $s) { edges { node { id } } } }', variables: { s: 'RUNING' } });
    expect(r.status).toBe(400);
    expect(r.body.errors[0].message).toMatch(/^Variable "\$s" got invalid value "RUNING"; Value "RUNING" does not exist in "JobStatus" enum\.$/);
  });

  it('answers a malformed JSON body 400, whatever the client accepts', async () => {
    for (const accept of [undefined, 'application/json', GRAPHQL_RESPONSE]) {
      const response = await fetch(api.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, ...(accept ? { accept } : {}) },
        body: '{ "query": ',
      });
      expect(response.status).toBe(400);
      expect(((await response.json()) as any).errors[0].extensions.code).toBe('BAD_USER_INPUT');
    }
  });
});

/**
 * Text PostgreSQL cannot store (NUL; an unpaired surrogate, which it would silently replace) and
 * cursors naming times it cannot hold are refused with BAD_USER_INPUT and the field at fault,
 * before anything runs: they used to reach the database and fail there with a 500.
 */
describe('input the database cannot hold', () => {
  let api: TestApi;
  let key: string;
  let frameId: string;

  beforeAll(async () => {
    api = await startTestApi();
    key = (await api.createProject('Unstorable')).secret;
    frameId = (await createStory(api, key, { title: 'Kept', script: 'first # a caption' })).frames.edges[0].node.id;
  });
  afterAll(() => api.close());

  async function expectRefused(query: string, variables: Record<string, unknown>, field: string, message: RegExp) {
    const before = await tableCounts(api.db.owner);
    const from = api.logs.length;
    const r = await api.gql(query, variables, key);
    expect(r.status).toBe(400);
    const error = onlyError(r);
    expect(error.extensions).toEqual({ code: 'BAD_USER_INPUT', field });
    expect(error.message).toMatch(message);
    expect(r.data).toBeUndefined();
    expect(await tableCounts(api.db.owner)).toEqual(before);
    expect(api.logs.slice(from).filter((line) => JSON.parse(line).level === 'error')).toEqual([]);
  }

  it.each([
    ['a title, written in the document', 'mutation { createStory(input: { title: "a\\u0000b" }) { id } }', {}, 'title'],
    ['a title, from a variable', 'mutation($t: String!) { createStory(input: { title: $t }) { id } }', { t: 'a\u0000b' }, 'title'],
    ['a script', 'mutation($s: String) { createStory(input: { title: "T", script: $s }) { id } }', { s: 'one\ntw\u0000o' }, 'script'],
    ['a caption inside a script', 'mutation($s: String) { createStory(input: { title: "T", script: $s }) { id } }', { s: 'one # cap\u0000tion' }, 'script'],
    ['a search', 'query($q: String) { characters(search: $q) { edges { node { id } } } }', { q: 'mi\u0000ra' }, 'search'],
    ['a nested input field', 'mutation($d: String!) { createCharacter(input: { name: "N", description: $d }) { id } }', { d: '\u0000' }, 'description'],
  ])('refuses a NUL in %s', async (_what, query, variables, field) => {
    await expectRefused(query, variables, field, new RegExp(`^${field} must not contain NUL characters$`));
  });

  it('refuses a NUL in a caption of updateFrame, and leaves the frame as it was', async () => {
    await expectRefused('mutation($id: ID!, $c: String) { updateFrame(id: $id, input: { caption: $c }) { id } }',
      { id: frameId, c: 'x\u0000' }, 'caption', /NUL/);
    const frame = await api.gql(`query($id: ID!) { node(id: $id) { ... on Frame { caption } } }`, { id: frameId }, key);
    expect(frame.data.node.caption).toBe('a caption');
  });

  it('refuses an unpaired surrogate instead of storing U+FFFD', async () => {
    await expectRefused('mutation($d: String!) { createCharacter(input: { name: "N", description: $d }) { id } }',
      { d: 'half \ud83d of an emoji' }, 'description', /^description is not valid Unicode text/);
    const whole = await api.gql('mutation($d: String!) { createCharacter(input: { name: "Emoji", description: $d }) { description } }',
      { d: 'a whole \ud83d\ude00' }, key);
    expect(whole.data.createCharacter.description).toBe('a whole 😀');
  });

  it('refuses the whole request: the earlier mutation of it is not written either', async () => {
    await expectRefused(`mutation {
      ok: createCharacter(input: { name: "Would be kept", description: "fine" }) { id }
      bad: createStory(input: { title: "a\\u0000b" }) { id }
    }`, {}, 'title', /NUL/);
  });

  it('refuses the same over graphql-ws', async () => {
    const c = connectWs(api.url, { apiKey: key });
    try {
      const sub = new Subscription(c.client, 'query($q: String) { characters(search: $q) { edges { node { id } } } }', { q: '\u0000' });
      await expect(sub.done).rejects.toEqual([{ message: 'search must not contain NUL characters', extensions: { code: 'BAD_USER_INPUT', field: 'search' } }]);
    } finally {
      await c.dispose();
    }
  });

  const cursor = (text: string) => Buffer.from(text).toString('base64url');
  const UUID = '00000000-0000-4000-8000-000000000000';

  it.each([
    ['a time before any PostgreSQL can hold', `t:-271821-04-20T00:00:00.000Z|${UUID}`],
    ['a time after any PostgreSQL can hold', `t:+275760-09-13T00:00:00.000Z|${UUID}`],
    ['year 0', `t:0000-01-01T00:00:00.000Z|${UUID}`],
    ['a day that does not exist', `t:2025-02-30T00:00:00.000Z|${UUID}`],
    ['an id of dashes', 't:2025-01-01T00:00:00.000Z|------------------------------------'],
  ])('refuses a time cursor with %s as BAD_USER_INPUT on after', async (_what, text) => {
    for (const list of ['stories', 'characters', 'apiKeys', 'jobs', 'webhooks']) {
      const r = await api.gql(`query($a: String) { ${list}(after: $a) { edges { cursor } } }`, { a: cursor(text) }, key);
      expect({ list, extensions: onlyError(r).extensions }).toEqual({ list, extensions: { code: 'BAD_USER_INPUT', field: 'after' } });
    }
    const renders = await api.gql(`query($id: ID!, $a: String) { node(id: $id) { ... on Frame { renders(after: $a) { edges { cursor } } } } }`,
      { id: frameId, a: cursor(text) }, key);
    expect(onlyError(renders).extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'after' });
  });

  it('still takes the cursors it hands out', async () => {
    await api.gql('mutation { a: createCharacter(input: { name: "Page one", description: "x" }) { id } b: createCharacter(input: { name: "Page two", description: "x" }) { id } }', {}, key);
    const first = await api.gql('{ characters(first: 1) { edges { cursor } pageInfo { endCursor } } }', {}, key);
    const next = await api.gql('query($a: String) { characters(first: 1, after: $a) { edges { cursor } } }', { a: first.data.characters.pageInfo.endCursor }, key);
    expect(next.errors).toBeUndefined();
    expect(next.data.characters.edges).toHaveLength(1);
  });
});
