/**
 * Idempotency-Key: a retried request gets its first job back; the same key on a request that asks
 * for something else (another seed, prompt, frame list, or sent by another API key) is refused
 * with CONFLICT on the Idempotency-Key field, and nothing is written.
 */
import { GenerationApi, startGenerationApi } from '../support/generation-harness';
import { createCharacter, createStory, tableCounts } from '../support/fixtures';

const REGENERATE = `mutation($f: ID!, $seed: Int, $prompt: String) { regenerateFrame(frameId: $f, seed: $seed, prompt: $prompt) { job { id } } }`;
const GENERATE = `mutation($s: ID!, $frames: [ID!]) { generateStory(storyId: $s, frameIds: $frames) { job { id } } }`;

describe('Idempotency-Key', () => {
  let api: GenerationApi;
  let key: string;
  let story: Awaited<ReturnType<typeof createStory>>;
  let frameIds: string[];

  beforeAll(async () => {
    api = await startGenerationApi({ workers: 0, maxActiveJobs: 100 });
    key = (await api.createProject('Idem')).secret;
    const hero = await createCharacter(api, key, 'Hero');
    story = await createStory(api, key, { title: 'S', characterIds: [hero.id], script: 'one\ntwo\nthree' });
    frameIds = story.frames.edges.map((e) => e.node.id);
  });
  afterAll(() => api?.close());

  const send = (idem: string, query: string, variables: Record<string, unknown>, as = key) => api.gqlWith({ 'idempotency-key': idem }, query, variables, as);
  const jobId = (r: { data?: any; errors?: unknown }) => {
    if (r.errors) throw new Error(JSON.stringify(r.errors));
    return (Object.values(r.data)[0] as { job: { id: string } }).job.id;
  };

  /** The request is refused with the stable code, and no row of any table changed. */
  async function expectRefused(request: () => ReturnType<typeof send>, says: RegExp) {
    const before = await tableCounts(api.db.owner);
    const r = await request();
    expect(r.errors?.map((e) => e.extensions)).toEqual([{ code: 'CONFLICT', field: 'Idempotency-Key' }]);
    expect(r.errors?.[0]?.message).toMatch(says);
    expect(await tableCounts(api.db.owner)).toEqual(before);
  }

  it('returns the first job to a retry of the same regenerateFrame, seed given or not', async () => {
    const first = jobId(await send('regen-same', REGENERATE, { f: frameIds[0], seed: 7, prompt: 'a red door' }));
    expect(jobId(await send('regen-same', REGENERATE, { f: frameIds[0], seed: 7, prompt: 'a red door' }))).toBe(first);
    // No seed: the server draws one; a retry still means the same request.
    const unseeded = jobId(await send('regen-unseeded', REGENERATE, { f: frameIds[0] }));
    expect(jobId(await send('regen-unseeded', REGENERATE, { f: frameIds[0] }))).toBe(unseeded);
  });

  it('refuses the key for a regenerateFrame with another seed or another prompt', async () => {
    await send('regen-1', REGENERATE, { f: frameIds[0], seed: 1, prompt: 'a red door' });
    await expectRefused(() => send('regen-1', REGENERATE, { f: frameIds[0], seed: 2, prompt: 'a red door' }), /seed/);
    await expectRefused(() => send('regen-1', REGENERATE, { f: frameIds[0], seed: 1, prompt: 'a blue door' }), /prompt/);
    await expectRefused(() => send('regen-1', REGENERATE, { f: frameIds[0], prompt: 'a red door' }), /seed/);
    await expectRefused(() => send('regen-1', REGENERATE, { f: frameIds[1], seed: 1, prompt: 'a red door' }), /frame/);
  });

  it('refuses the key for a generateStory with other frameIds; the same frames in another order are the same request', async () => {
    const first = jobId(await send('story-1', GENERATE, { s: story.id, frames: [frameIds[0], frameIds[1]] }));
    expect(jobId(await send('story-1', GENERATE, { s: story.id, frames: [frameIds[1], frameIds[0]] }))).toBe(first);
    await expectRefused(() => send('story-1', GENERATE, { s: story.id, frames: [frameIds[0], frameIds[2]] }), /frameIds/);
    await expectRefused(() => send('story-1', GENERATE, { s: story.id }), /frameIds/);
  });

  it('refuses a key another API key of the same project used', async () => {
    const created = await api.gql(`mutation { createApiKey(input: { name: "second", role: EDITOR }) { secret } }`, {}, key);
    if (created.errors) throw new Error(JSON.stringify(created.errors));
    const second = created.data.createApiKey.secret as string;
    jobId(await send('shared-key', GENERATE, { s: story.id }));
    await expectRefused(() => send('shared-key', GENERATE, { s: story.id }, second), /another API key/);
  });

  it('keeps keys of different projects apart', async () => {
    const otherKey = (await api.createProject('Other')).secret;
    const otherStory = await createStory(api, otherKey, { title: 'O', script: 'x' });
    const mine = jobId(await send('per-project', GENERATE, { s: story.id }));
    const theirs = jobId(await send('per-project', GENERATE, { s: otherStory.id }, otherKey));
    expect(theirs).not.toBe(mine);
  });
});
