import { readFileSync } from 'node:fs';
import { SCHEDULER_NAMES } from '../../src/engine/schedulers';
import { join } from 'node:path';
import { TestApi, onlyError, startTestApi } from '../support/api-harness';
import { CHARACTER_FIELDS, FRAME_FIELDS, createCharacter, createStory } from '../support/fixtures';

const STORY_FRAMES = `query($id: ID!) { node(id: $id) { ... on Story { frameCount frames(first: 100) { edges { node { ${FRAME_FIELDS} } } } } } }`;

describe('characters, stories and frames', () => {
  let api: TestApi;
  let key: string;
  let mira: { id: string };
  let tomo: { id: string };

  beforeAll(async () => {
    api = await startTestApi();
    key = (await api.createProject('Studio')).secret;
    mira = await createCharacter(api, key, 'Mira', { seed: 5, consistency: { identityFrames: 3, samplingRate: 0.75 } });
    tomo = await createCharacter(api, key, 'Tomo');
  });
  afterAll(() => api.close());

  const frames = async (storyId: string) =>
    (await api.gql(STORY_FRAMES, { id: storyId }, key)).data.node.frames.edges.map((e: any) => e.node);

  it('creates characters with defaults and the given consistency settings', async () => {
    const r = await api.gql(`query($id: ID!) { node(id: $id) { ... on Character { ${CHARACTER_FIELDS} } } }`, { id: mira.id }, key);
    expect(r.data.node).toMatchObject({
      name: 'Mira', seed: 5, anchorVersion: 1, negativePrompt: '',
      consistency: { identityFrames: 3, samplingRate: 0.75 },
    });
  });

  it('bumps the anchor version when the identity changes, not when the name does', async () => {
    const c = await createCharacter(api, key, 'Vera');
    const update = `mutation($id: ID!, $input: UpdateCharacterInput!) { updateCharacter(id: $id, input: $input) { name description anchorVersion } }`;
    const renamed = await api.gql(update, { id: c.id, input: { name: 'Vera II' } }, key);
    expect(renamed.data.updateCharacter).toMatchObject({ name: 'Vera II', anchorVersion: 1 });
    const redescribed = await api.gql(update, { id: c.id, input: { description: 'Vera, now with a red scarf' } }, key);
    expect(redescribed.data.updateCharacter.anchorVersion).toBe(2);
    const same = await api.gql(update, { id: c.id, input: { description: 'Vera, now with a red scarf' } }, key);
    expect(same.data.updateCharacter.anchorVersion).toBe(2);
    const reseeded = await api.gql(update, { id: c.id, input: { seed: 99, consistency: { samplingRate: 0.3 } } }, key);
    expect(reseeded.data.updateCharacter.anchorVersion).toBe(3);
    // Without a rate of its own the character uses its pack's (null); null resets to it.
    const fields = `mutation($id: ID!, $input: UpdateCharacterInput!) { updateCharacter(id: $id, input: $input) { anchorVersion consistency { samplingRate } } }`;
    const kept = await api.gql(fields, { id: c.id, input: { name: 'Vera III' } }, key);
    expect(kept.data.updateCharacter).toEqual({ anchorVersion: 3, consistency: { samplingRate: 0.3 } });
    const reset = await api.gql(fields, { id: c.id, input: { consistency: { samplingRate: null } } }, key);
    expect(reset.data.updateCharacter).toEqual({ anchorVersion: 4, consistency: { samplingRate: null } });
    const fresh = await createCharacter(api, key, 'Wren');
    const read = await api.gql(`query($id: ID!) { node(id: $id) { ... on Character { consistency { identityFrames samplingRate } } } }`, { id: fresh.id }, key);
    expect(read.data.node.consistency).toEqual({ identityFrames: 2, samplingRate: null });
    const deleted = await api.gql(`mutation($id: ID!) { deleteCharacter(id: $id) { deletedId } }`, { id: c.id }, key);
    expect(deleted.data.deleteCharacter.deletedId).toBe(c.id);
  });

  it('creates a story from a script: cast, captions, [NC], names', async () => {
    const story = await createStory(api, key, {
      title: 'Lantern', characterIds: [mira.id, tomo.id], scheduler: 'EULER_ANCESTRAL', seed: 3,
      script: '[Mira] wakes up #Morning.\n\n[NC] an empty road #Quiet.\nboth walk #Together.\n[Tomo] waves',
    });
    expect(story.frameCount).toBe(4);
    const got = await frames(story.id);
    expect(got.map((f: any) => [f.position, f.prompt, f.caption, f.noCharacter, f.characters.map((c: any) => c.name)])).toEqual([
      [1, 'Mira wakes up', 'Morning.', false, ['Mira']],
      [2, 'an empty road', 'Quiet.', true, []],
      [3, 'both walk', 'Together.', false, ['Mira', 'Tomo']],
      [4, 'Tomo waves', '', false, ['Tomo']],
    ]);
    const settings = await api.gql(`query($id: ID!) { node(id: $id) { ... on Story { model scheduler width height seed steps guidance characters { name } } } }`, { id: story.id }, key);
    // Size, steps and guidance default from the story-world pack's manifest (32x32 shown x8).
    const { defaults } = JSON.parse(readFileSync(join(__dirname, '../../models/packs/story-world/manifest.json'), 'utf8')) as { defaults: { steps: number; guidance: number } };
    expect(settings.data.node).toEqual({ model: 'story-world', scheduler: 'EULER_ANCESTRAL', width: 256, height: 256, seed: 3, steps: defaults.steps, guidance: defaults.guidance, characters: [{ name: 'Mira' }, { name: 'Tomo' }] });
  });

  it("refuses a size the story's model pack cannot render, naming the sizes it takes", async () => {
    const r = await api.gql(`mutation { createStory(input: { title: "Big", width: 512, height: 256 }) { id } }`, {}, key);
    expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'UNSUPPORTED_SIZE', field: 'width' });
    expect(r.errors?.[0]?.message).toBe('the story-world model pack does not render 512x256: it takes 32x32 times a whole display upscale (32x32, 64x64, 96x96, 128x128, ...)');
  });

  it('takes a whole display upscale of the story-world size', async () => {
    const r = await api.gql(`mutation { createStory(input: { title: "Big", width: 512, height: 512 }) { width height model } }`, {}, key);
    expect(r.data.createStory).toEqual({ width: 512, height: 512, model: 'story-world' });
  });

  it('adds, moves, updates and deletes frames, keeping positions dense', async () => {
    const story = await createStory(api, key, { title: 'Edit me', characterIds: [mira.id, tomo.id], script: 'one\ntwo\nthree' });
    const added = await api.gql(`mutation($s: ID!) { addFrames(storyId: $s, script: "[Tomo] new A\\nnew B", position: 2) {
        story { frameCount } frames { position prompt } } }`, { s: story.id }, key);
    expect(added.data.addFrames).toEqual({ story: { frameCount: 5 }, frames: [{ position: 2, prompt: 'Tomo new A' }, { position: 3, prompt: 'new B' }] });
    expect((await frames(story.id)).map((f: any) => f.prompt)).toEqual(['one', 'Tomo new A', 'new B', 'two', 'three']);

    const byPrompt = async (p: string) => (await frames(story.id)).find((f: any) => f.prompt === p);
    const move = `mutation($id: ID!, $p: Int!) { moveFrame(id: $id, position: $p) { position } }`;
    expect((await api.gql(move, { id: (await byPrompt('one')).id, p: 4 }, key)).data.moveFrame.position).toBe(4);
    expect((await frames(story.id)).map((f: any) => f.prompt)).toEqual(['Tomo new A', 'new B', 'two', 'one', 'three']);
    await api.gql(move, { id: (await byPrompt('three')).id, p: 1 }, key);
    expect((await frames(story.id)).map((f: any) => f.prompt)).toEqual(['three', 'Tomo new A', 'new B', 'two', 'one']);

    const update = `mutation($id: ID!, $input: UpdateFrameInput!) { updateFrame(id: $id, input: $input) { prompt caption noCharacter seed characters { name } } }`;
    const two = (await byPrompt('two')).id;
    expect((await api.gql(update, { id: two, input: { caption: 'Cap', characterIds: [tomo.id], seed: 12 } }, key)).data.updateFrame)
      .toEqual({ prompt: 'two', caption: 'Cap', noCharacter: false, seed: 12, characters: [{ name: 'Tomo' }] });
    expect((await api.gql(update, { id: two, input: { noCharacter: true } }, key)).data.updateFrame)
      .toMatchObject({ noCharacter: true, characters: [] });
    expect((await api.gql(update, { id: two, input: { characterIds: null, seed: null } }, key)).data.updateFrame)
      .toMatchObject({ noCharacter: false, seed: null, characters: [{ name: 'Mira' }, { name: 'Tomo' }] });

    const del = await api.gql(`mutation($id: ID!) { deleteFrame(id: $id) { deletedId } }`, { id: (await byPrompt('new B')).id }, key);
    expect(del.errors).toBeUndefined();
    const left = await frames(story.id);
    expect(left.map((f: any) => [f.position, f.prompt])).toEqual([[1, 'three'], [2, 'Tomo new A'], [3, 'two'], [4, 'one']]);
  });

  it('refuses a cast change that would strand a frame, and allows it once the frame changes', async () => {
    const story = await createStory(api, key, { title: 'Cast', characterIds: [mira.id, tomo.id], script: 'a\n[Tomo] b' });
    const update = `mutation($id: ID!, $input: UpdateStoryInput!) { updateStory(id: $id, input: $input) { title characters { name } } }`;
    const refused = onlyError(await api.gql(update, { id: story.id, input: { title: 'New', characterIds: [mira.id] } }, key));
    expect(refused.extensions).toEqual({ code: 'CONFLICT', field: 'characterIds' });
    expect(refused.message).toContain('frame 2');
    const titleOnly = await api.gql(update, { id: story.id, input: { title: 'Renamed' } }, key);
    expect(titleOnly.data.updateStory).toEqual({ title: 'Renamed', characters: [{ name: 'Mira' }, { name: 'Tomo' }] });
    const frame2 = (await frames(story.id))[1].id;
    await api.gql(`mutation($id: ID!) { updateFrame(id: $id, input: { characterIds: null }) { id } }`, { id: frame2 }, key);
    const shrunk = await api.gql(update, { id: story.id, input: { characterIds: [mira.id] } }, key);
    expect(shrunk.data.updateStory).toEqual({ title: 'Renamed', characters: [{ name: 'Mira' }] });
  });

  it('refuses to delete a cast character, and deletes a story with its frames', async () => {
    const c = await createCharacter(api, key, 'Cast member');
    const story = await createStory(api, key, { title: 'Doomed', characterIds: [c.id], script: 'x\ny' });
    const refused = onlyError(await api.gql(`mutation($id: ID!) { deleteCharacter(id: $id) { deletedId } }`, { id: c.id }, key));
    expect(refused.extensions).toEqual({ code: 'CONFLICT', field: 'id' });
    await api.gql(`mutation($id: ID!) { deleteStory(id: $id) { deletedId } }`, { id: story.id }, key);
    const gone = onlyError(await api.gql(`query($id: ID!) { node(id: $id) { id } }`, { id: story.id }, key));
    expect(gone.extensions?.code).toBe('NOT_FOUND');
    const { rows } = await api.db.owner.query(`SELECT count(*)::int AS n FROM frames WHERE story_id = $1`, [Buffer.from(story.id, 'base64').toString().split(':')[1]]);
    expect(rows[0].n).toBe(0);
    expect((await api.gql(`mutation($id: ID!) { deleteCharacter(id: $id) { deletedId } }`, { id: c.id }, key)).errors).toBeUndefined();
  });

  it('answers queries over graphql-ws on the same server', async () => {
    const { createClient } = await import('graphql-ws');
    const { default: WebSocket } = await import('ws');
    const client = createClient({ url: api.url.replace('http', 'ws'), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${key}` }, lazy: true, retryAttempts: 0 });
    try {
      const result = await new Promise<any>((resolve, reject) => {
        let value: unknown;
        client.subscribe({ query: '{ viewer { role } }' }, { next: (v) => (value = v), error: reject, complete: () => resolve(value) });
      });
      expect(result).toEqual({ data: { viewer: { role: 'ADMIN' } } });
    } finally {
      await client.dispose();
    }
  });
});

describe('one scheduler vocabulary', () => {
  it("is the engine's names upper-cased in the GraphQL enum", () => {
    const sdl = readFileSync(join(__dirname, '../../schema/story.graphql'), 'utf8');
    const values = /enum Scheduler \{([^}]*)\}/.exec(sdl)![1]!.split(/\s+/).filter(Boolean);
    expect(values).toEqual(SCHEDULER_NAMES.map((n) => n.toUpperCase()));
  });
});
