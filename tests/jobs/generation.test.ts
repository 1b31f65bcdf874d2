/**
 * The job system end to end on the real story-world pack: mutations queue jobs, a worker thread
 * renders them, renders and images are stored, the frame's current render switches, and the
 * picture is served from a signed URL.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GenerationApi, JOB_FIELDS, startGenerationApi } from '../support/generation-harness';
import { createCharacter, createStory, decodeId } from '../support/fixtures';

const RENDER_FIELDS = `id seed steps scheduler model width height prompt anchorVersions timings consistencyScore isCurrent
  png: url(variant: PNG) webp: url(variant: WEBP) thumb: url(variant: THUMBNAIL) image { mime width height contentHash }`;

describe('generation jobs', () => {
  let api: GenerationApi;
  let key: string;
  let story: Awaited<ReturnType<typeof createStory>>;
  let hero: { id: string };

  beforeAll(async () => {
    api = await startGenerationApi({ workers: 1 });
    key = (await api.createProject('Gen')).secret;
    hero = await createCharacter(api, key, 'Hero', { description: 'a person with red hair', seed: 3, consistency: { identityFrames: 2 } });
    // Few steps keep the test short; the pipeline is the same at any step count.
    story = await createStory(api, key, { title: 'Short', characterIds: [hero.id], steps: 4, seed: 9, script: 'Hero waving on the beach\n[NC] the city at night' });
  });
  afterAll(() => api?.close());

  it('generates a story: one current render per frame, with settings, anchor versions and a signed picture', async () => {
    const started = await api.gql(`mutation($id: ID!) { generateStory(storyId: $id) { job { ${JOB_FIELDS} } } }`, { id: story.id }, key);
    expect(started.errors).toBeUndefined();
    expect(started.data.generateStory.job).toMatchObject({ kind: 'STORY', status: 'QUEUED', progress: { framesDone: 0, framesTotal: 2, total: 4 } });
    const job = await api.waitForJob(started.data.generateStory.job.id, key);
    expect(job).toMatchObject({ status: 'SUCCEEDED', attempts: 1, error: null, progress: { framesDone: 2, framesTotal: 2 } });

    const r = await api.gql(`query($id: ID!) { node(id: $id) { ... on Story { frames { edges { node { id noCharacter
        currentRender { ${RENDER_FIELDS} } renders { edges { node { id } } } } } } } } }`, { id: story.id }, key);
    const frames = r.data.node.frames.edges.map((e: any) => e.node);
    for (const f of frames) {
      expect(f.renders.edges).toHaveLength(1);
      expect(f.currentRender).toMatchObject({ steps: 4, scheduler: 'DDIM', model: 'story-world', width: 256, height: 256, isCurrent: true,
        image: { mime: 'image/png', width: 256, height: 256 } });
      expect(Object.keys(f.currentRender.timings).sort()).toEqual(['computeMs', 'encodeMs', 'storeMs']);
    }
    const [withHero, scenery] = frames;
    expect(withHero.currentRender.prompt).toBe('a person with red hair Hero waving on the beach');
    expect(withHero.currentRender.anchorVersions).toEqual({ [hero.id]: 1 });
    // The judge's agreement with one character's identity over its five attributes: k/5 exactly;
    // a frame without characters has no score.
    expect([0, 0.2, 0.4, 0.6, 0.8, 1]).toContainEqual(withHero.currentRender.consistencyScore);
    expect(scenery.currentRender.consistencyScore).toBeNull();
    expect(scenery.currentRender.anchorVersions).toEqual({});
    expect(scenery.currentRender.consistencyScore).toBeNull();

    // Absolute URLs under the host the client called (no STORYFORGE_PUBLIC_URL here): usable as they are.
    const origin = new URL(api.url).origin;
    for (const u of [withHero.currentRender.png, withHero.currentRender.webp, withHero.currentRender.thumb]) expect(u.startsWith(origin + '/images/')).toBe(true);
    const png = await fetch(withHero.currentRender.png);
    expect(png.status).toBe(200);
    expect(png.headers.get('content-type')).toBe('image/png');
    const bytes = Buffer.from(await png.arrayBuffer());
    expect(bytes.subarray(1, 4).toString()).toBe('PNG');
    expect((await fetch(withHero.currentRender.webp)).headers.get('content-type')).toBe('image/webp');
    expect((await fetch(withHero.currentRender.thumb)).status).toBe(200);
    // A tampered signature, or the same signature on another image, is refused.
    // Another first character, whatever the signature starts with (replacing it with itself proves nothing).
    expect((await fetch(withHero.currentRender.png.replace(/sig=(.)/, (_m: string, c: string) => `sig=${c === '0' ? '1' : '0'}`))).status).toBe(403);
    const other = new URL(scenery.currentRender.png);
    const forged = new URL(withHero.currentRender.png);
    forged.pathname = other.pathname;
    expect((await fetch(forged)).status).toBe(403);
  });

  it('regenerates a frame with a new seed: the new render is current, the old one stays in the history and can be made current again', async () => {
    const frameId = (await api.gql(`query($id: ID!) { node(id: $id) { ... on Story { frames(first: 1) { edges { node { id currentRender { id seed } } } } } } }`,
      { id: story.id }, key)).data.node.frames.edges[0].node;
    const started = await api.gql(`mutation($id: ID!) { regenerateFrame(frameId: $id, seed: 1234, prompt: "Hero jumping in the desert") { job { id kind } } }`, { id: frameId.id }, key);
    expect(started.data.regenerateFrame.job.kind).toBe('FRAME');
    expect((await api.waitForJob(started.data.regenerateFrame.job.id, key)).status).toBe('SUCCEEDED');
    const r = await api.gql(`query($id: ID!) { node(id: $id) { ... on Frame { prompt currentRender { id seed prompt job { id } }
      renders(first: 10) { edges { node { id isCurrent seed } } } } } }`, { id: frameId.id }, key);
    const frame = r.data.node;
    expect(frame.prompt).toBe('Hero waving on the beach');
    expect(frame.currentRender).toMatchObject({ seed: 1234, prompt: 'a person with red hair Hero jumping in the desert', job: { id: started.data.regenerateFrame.job.id } });
    expect(frame.renders.edges.map((e: any) => [e.node.seed, e.node.isCurrent])).toEqual([[frameId.currentRender.seed, false], [1234, true]]);
    const { rows } = await api.db.owner.query(`SELECT count(*)::int AS n FROM renders WHERE frame_id = $1 AND is_current`, [decodeId(frameId.id)]);
    expect(rows[0].n).toBe(1);

    // Back to the first render: it is current again, and the history is unchanged.
    const setCurrent = `mutation($f: ID!, $r: ID!) { setCurrentRender(frameId: $f, renderId: $r) { currentRender { id seed } renders { edges { node { id isCurrent } } } } }`;
    const restored = await api.gql(setCurrent, { f: frameId.id, r: frameId.currentRender.id }, key);
    expect(restored.errors).toBeUndefined();
    expect(restored.data.setCurrentRender.currentRender).toEqual(frameId.currentRender);
    expect(restored.data.setCurrentRender.renders.edges.map((e: any) => [e.node.id, e.node.isCurrent]))
      .toEqual([[frameId.currentRender.id, true], [frame.currentRender.id, false]]);
    // A render of another frame is refused, and nothing changes.
    const other = (await api.gql(`query($id: ID!) { node(id: $id) { ... on Story { frames(first: 2) { edges { node { currentRender { id } } } } } } }`,
      { id: story.id }, key)).data.node.frames.edges[1].node.currentRender.id;
    const refused = await api.gql(setCurrent, { f: frameId.id, r: other }, key);
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'renderId' });
    const after = await api.gql(`query($id: ID!) { node(id: $id) { ... on Frame { currentRender { id } } } }`, { id: frameId.id }, key);
    expect(after.data.node.currentRender.id).toBe(frameId.currentRender.id);
  });

  it('draws variations with consecutive seeds: the first becomes current, the others join the history', async () => {
    const frameId = (await api.gql(`query($id: ID!) { node(id: $id) { ... on Story { frames(first: 2) { edges { node { id } } } } } }`,
      { id: story.id }, key)).data.node.frames.edges[1].node.id;
    const refused = await api.gql(`mutation($id: ID!) { regenerateFrame(frameId: $id, variations: 5) { job { id } } }`, { id: frameId }, key);
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'variations' });
    const started = await api.gql(`mutation($id: ID!) { regenerateFrame(frameId: $id, seed: 500, variations: 3) { job { id progress { framesTotal } } } }`, { id: frameId }, key);
    expect(started.data.regenerateFrame.job.progress.framesTotal).toBe(3);
    expect((await api.waitForJob(started.data.regenerateFrame.job.id, key)).status).toBe('SUCCEEDED');
    const job = await api.gql(`query($id: ID!) { node(id: $id) { ... on GenerationJob { renders { seed variation isCurrent image { contentHash } } } } }`,
      { id: started.data.regenerateFrame.job.id }, key);
    const renders = job.data.node.renders;
    expect(renders.map((r: any) => [r.seed, r.variation, r.isCurrent])).toEqual([[500, 0, true], [501, 1, false], [502, 2, false]]);
    expect(new Set(renders.map((r: any) => r.image.contentHash)).size).toBe(3);
    // A variation drawn again alone, from its seed, is the same picture.
    const again = await api.gql(`mutation($id: ID!) { regenerateFrame(frameId: $id, seed: 502) { job { id } } }`, { id: frameId }, key);
    await api.waitForJob(again.data.regenerateFrame.job.id, key);
    const redrawn = await api.gql(`query($id: ID!) { node(id: $id) { ... on GenerationJob { renders { image { contentHash } } } } }`,
      { id: again.data.regenerateFrame.job.id }, key);
    expect(redrawn.data.node.renders[0].image.contentHash).toBe(renders[2].image.contentHash);
  });

  it('builds a character anchor: the judge reads its identity frames, and a story reads the same bank', async () => {
    const started = await api.gql(`mutation($id: ID!) { buildCharacterAnchor(characterId: $id) { job { id kind character { id } } } }`, { id: hero.id }, key);
    expect(started.data.buildCharacterAnchor.job).toMatchObject({ kind: 'CHARACTER_ANCHOR', character: { id: hero.id } });
    expect((await api.waitForJob(started.data.buildCharacterAnchor.job.id, key)).status).toBe('SUCCEEDED');
    const { rows } = await api.db.owner.query(`SELECT version, identity, recipe FROM character_anchors WHERE character_id = $1 ORDER BY created_at`, [decodeId(hero.id)]);
    // One anchor row for version 1: the story job made it, the anchor job reused it.
    expect(rows).toHaveLength(1);
    expect(rows[0].recipe).toMatchObject({ prompts: ['a person with red hair standing in the city', 'a person with red hair walking in the forest'], seeds: [3, 4], csaSeed: 3 });
    // The character has no rate of its own: the pack's default is in the recipe.
    expect(rows[0].recipe.rate).toBe(JSON.parse(readFileSync(join(__dirname, '../../models/packs/story-world/manifest.json'), 'utf8')).csa.default_rate);
    expect(Object.keys(rows[0].identity).sort()).toEqual(['hair', 'hat', 'shirt', 'skin', 'trousers']);
  });

  it('answers a retried request with the same Idempotency-Key with the same job, and refuses the key for another request', async () => {
    const mutation = `mutation($id: ID!) { generateStory(storyId: $id) { job { id } } }`;
    const first = await api.gqlWith({ 'idempotency-key': 'retry-me-1' }, mutation, { id: story.id }, key);
    const again = await api.gqlWith({ 'idempotency-key': 'retry-me-1' }, mutation, { id: story.id }, key);
    expect(again.data.generateStory.job.id).toBe(first.data.generateStory.job.id);
    const other = await api.gqlWith({ 'idempotency-key': 'retry-me-1' }, `mutation($id: ID!) { buildCharacterAnchor(characterId: $id) { job { id } } }`, { id: hero.id }, key);
    expect(other.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', field: 'Idempotency-Key' });
    await api.waitForJob(first.data.generateStory.job.id, key);
  });

  it('lets viewers read jobs but not start them', async () => {
    const viewer = (await api.gql(`mutation { createApiKey(input: { name: "v", role: VIEWER }) { secret } }`, {}, key)).data.createApiKey.secret;
    const refused = await api.gql(`mutation($id: ID!) { generateStory(storyId: $id) { job { id } } }`, { id: story.id }, viewer);
    expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const list = await api.gql(`{ jobs(first: 100, status: SUCCEEDED) { edges { node { id status } } } }`, {}, viewer);
    expect(list.data.jobs.edges.length).toBeGreaterThanOrEqual(3);
    expect(list.data.jobs.edges.every((e: any) => e.node.status === 'SUCCEEDED')).toBe(true);
  });
});
