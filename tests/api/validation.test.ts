import { TestApi, onlyError, startTestApi } from '../support/api-harness';
import { createCharacter, createStory, tableCounts } from '../support/fixtures';

const CREATE_CHARACTER = `mutation($input: CreateCharacterInput!) { createCharacter(input: $input) { id } }`;
const CREATE_STORY = `mutation($input: CreateStoryInput!) { createStory(input: $input) { id } }`;

describe('validation: stable codes, the field at fault, nothing written', () => {
  let api: TestApi;
  let key: string;
  let mira: { id: string };

  beforeAll(async () => {
    api = await startTestApi();
    key = (await api.createProject('Studio')).secret;
    mira = await createCharacter(api, key, 'Mira');
  });
  afterAll(() => api.close());

  async function expectRejected(query: string, variables: Record<string, unknown>, code: string, field: string | undefined, message?: RegExp) {
    const before = await tableCounts(api.db.owner);
    const error = onlyError(await api.gql(query, variables, key));
    expect({ code: error.extensions?.code, field: error.extensions?.field }).toEqual({ code, field });
    if (message) expect(error.message).toMatch(message);
    expect(await tableCounts(api.db.owner)).toEqual(before);
  }

  it.each([
    ['blank name', { name: '  ', description: 'x' }, 'name', /must not be empty/],
    ['long name', { name: 'x'.repeat(101), description: 'x' }, 'name', /longer than 100/],
    ['long description', { name: 'Ok', description: 'x'.repeat(2001) }, 'description', /longer than 2000/],
    ['negative seed', { name: 'Ok', description: 'x', seed: -1 }, 'seed', /from 0 to/],
    ['sampling rate 1.5', { name: 'Ok', description: 'x', consistency: { samplingRate: 1.5 } }, 'consistency.samplingRate', /at most 1/],
    ['sampling rate 0', { name: 'Ok', description: 'x', consistency: { samplingRate: 0 } }, 'consistency.samplingRate', /greater than 0/],
    ['9 identity frames', { name: 'Ok', description: 'x', consistency: { identityFrames: 9 } }, 'consistency.identityFrames', /from 1 to 8/],
  ])('createCharacter with %s -> BAD_USER_INPUT', async (_label, input, field, message) => {
    await expectRejected(CREATE_CHARACTER, { input }, 'BAD_USER_INPUT', field, message);
  });

  it('answers CONFLICT for a duplicate character name, whatever the case', async () => {
    await expectRejected(CREATE_CHARACTER, { input: { name: 'MIRA', description: 'x' } }, 'CONFLICT', 'name');
  });

  it('writes nothing of a story whose script fails on line 3', async () => {
    await expectRejected(CREATE_STORY,
      { input: { title: 'Broken', characterIds: [mira.id], script: 'fine\n[Mira] fine\n[Ghost] boo #x' } },
      'BAD_USER_INPUT', 'script', /^line 3: \[Ghost\] is not in the story's cast$/);
  });

  it.each([
    ['empty title', { title: '' }, 'title'],
    ['width 100000', { title: 'T', width: 100000 }, 'width'],
    ['0 steps', { title: 'T', steps: 0 }, 'steps'],
    ['guidance 31', { title: 'T', guidance: 31 }, 'guidance'],
    ['201 frames', { title: 'T', script: Array(201).fill('f').join('\n') }, 'script'],
    ['a malformed cast id', { title: 'T', characterIds: ['not-an-id'] }, 'characterIds'],
  ])('createStory with %s -> BAD_USER_INPUT', async (_label, input, field) => {
    await expectRejected(CREATE_STORY, { input }, 'BAD_USER_INPUT', field);
  });

  it.each([
    ['width 33', { title: 'T', width: 33 }, 'width'],
    ['height 4096', { title: 'T', height: 4096 }, 'height'],
  ])('createStory with %s -> UNSUPPORTED_SIZE (story-world draws 32x32 times a whole upscale)', async (_label, input, field) => {
    await expectRejected(CREATE_STORY, { input }, 'UNSUPPORTED_SIZE', field, /story-world model pack does not render/);
  });

  it('answers NOT_FOUND for an unknown cast member and writes nothing', async () => {
    const ghost = Buffer.from('Character:00000000-0000-4000-8000-000000000000').toString('base64');
    await expectRejected(CREATE_STORY, { input: { title: 'T', characterIds: [ghost] } }, 'NOT_FOUND', 'characterIds');
  });

  it('keeps a story at 200 frames at most', async () => {
    const story = await createStory(api, key, { title: 'Long', script: Array(199).fill('f').join('\n') });
    await expectRejected(`mutation($s: ID!) { addFrames(storyId: $s, script: "a\\nb") { frames { id } } }`, { s: story.id },
      'BAD_USER_INPUT', 'script', /limit of 200/);
    const ok = await api.gql(`mutation($s: ID!) { addFrames(storyId: $s, script: "last") { story { frameCount } } }`, { s: story.id }, key);
    expect(ok.data.addFrames.story.frameCount).toBe(200);
  });

  it('rejects frame edits out of range or outside the cast', async () => {
    const story = await createStory(api, key, { title: 'Short', script: 'a\nb' });
    const frameId = story.frames.edges[0].node.id;
    await expectRejected(`mutation($id: ID!) { moveFrame(id: $id, position: 3) { id } }`, { id: frameId }, 'BAD_USER_INPUT', 'position');
    await expectRejected(`mutation($id: ID!, $c: [ID!]) { updateFrame(id: $id, input: { characterIds: $c }) { id } }`,
      { id: frameId, c: [mira.id] }, 'BAD_USER_INPUT', 'characterIds', /cast/);
    await expectRejected(`mutation($id: ID!) { updateFrame(id: $id, input: { prompt: "" }) { id } }`, { id: frameId }, 'BAD_USER_INPUT', 'prompt');
  });

  it('rolls back only the failed mutation of a request; the earlier one stands', async () => {
    const before = await tableCounts(api.db.owner);
    const r = await api.gql(`mutation {
      ok: createCharacter(input: { name: "Kept", description: "fine" }) { name }
      bad: createStory(input: { title: "Half", script: "ok\\n[Nobody] x" }) { id }
    }`, {}, key);
    expect(r.data).toEqual({ ok: { name: 'Kept' }, bad: null });
    expect(onlyError(r).extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'script' });
    const after = await tableCounts(api.db.owner);
    expect(after).toEqual({ ...before, characters: before.characters + 1 });
  });

  it('rejects page sizes over 100 and bad cursors', async () => {
    expect(onlyError(await api.gql(`{ characters(first: 101) { edges { cursor } } }`, {}, key)).extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'first' });
    expect(onlyError(await api.gql(`{ characters(after: "nope") { edges { cursor } } }`, {}, key)).extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'after' });
  });

  it('rejects malformed IDs as BAD_USER_INPUT and IDs of another type as NOT_FOUND', async () => {
    expect(onlyError(await api.gql(`{ node(id: "garbage") { id } }`, {}, key)).extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'id' });
    expect(onlyError(await api.gql(`mutation($id: ID!) { deleteStory(id: $id) { deletedId } }`, { id: mira.id }, key)).extensions)
      .toEqual({ code: 'NOT_FOUND', field: 'id' });
  });
});

describe('limits', () => {
  let api: TestApi;
  let key: string;

  beforeAll(async () => {
    api = await startTestApi({ rateLimitPerMinute: 5, maxBodyBytes: 10_000 });
    key = (await api.createProject('Limits')).secret;
  });
  afterAll(() => api.close());

  it('prices page sizes: nested big pages are refused before running', async () => {
    const r = await api.gql(`{ stories(first: 100) { edges { node { frames(first: 100) { edges { node { id currentRender { id } } } } } } } }`, {}, key);
    expect(r.status).toBe(400);
    expect(onlyError(r).message).toMatch(/query cost \d+ is over the limit of 10000/);
  });

  it('refuses deep queries, many aliases and oversized bodies', async () => {
    const deep = await api.gql(`{ stories { edges { node { frames { edges { node { story { frames { edges { node { story { id } } } } } } } } } } } }`, {}, key);
    expect(deep.status).toBe(400);
    expect(onlyError(deep).message).toMatch(/depth/i);
    const aliases = Array.from({ length: 12 }, (_, i) => `a${i}: viewer { role }`).join(' ');
    expect(onlyError(await api.gql(`{ ${aliases} }`, {}, key)).message).toMatch(/aliases/i);
    const big = await fetch(api.url, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query: `{ viewer { role } }`, variables: { pad: 'x'.repeat(20_000) } }),
    });
    expect(big.status).toBe(413);
    expect(((await big.json()) as any).errors[0].extensions.code).toBe('BAD_USER_INPUT');
  });

  it('answers RATE_LIMITED past the per-key budget', async () => {
    const results = [];
    for (let i = 0; i < 6; i++) results.push(await api.gql(`{ viewer { role } }`, {}, key));
    const limited = results.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    expect(onlyError(limited[0]).extensions?.code).toBe('RATE_LIMITED');
  });
});
