/**
 * Models in the API, end to end: a deployment whose API knows four packs (story-world, the tiny
 * SD1.5 and SDXL packs, and a fourth no worker holds) and whose worker holds three. One project
 * creates a story on each, at a size the pack allows besides its default, generates through the
 * API and gets renders of that size and model; an unknown pack, a wrong size and a pack no worker
 * serves are refused or failed with their codes; a story that changes model keeps its renders.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConfig } from '../../src/config';
import { createGeneration, Generation } from '../../src/generation';
import { Logger } from '../../src/util/logger';
import { GenerationWorkers, startGenerationWorkers } from '../../src/workers/generation-workers';
import { GenerationApi, JOB_FIELDS, startGenerationApi } from '../support/generation-harness';
import { createCharacter, decodeId } from '../support/fixtures';

const PACKS = resolve(__dirname, '../../models/packs');

/** A models folder of links to the committed packs, plus `offline`: sd15-tiny under another name. */
function modelsDir(packs: string[], offline?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'sf-models-'));
  for (const p of packs) symlinkSync(join(PACKS, p), join(dir, p));
  if (offline) {
    mkdirSync(join(dir, offline));
    for (const f of readdirSync(join(PACKS, 'sd15-tiny'))) {
      if (f !== 'manifest.json') symlinkSync(join(PACKS, 'sd15-tiny', f), join(dir, offline, f));
    }
    const manifest = JSON.parse(readFileSync(join(PACKS, 'sd15-tiny', 'manifest.json'), 'utf8'));
    writeFileSync(join(dir, offline, 'manifest.json'), JSON.stringify({ ...manifest, name: offline }));
  }
  return dir;
}

const MODEL_FIELDS = `id family isDefault sizes { rule native { width height } default { width height } multipleOf min max sizes { width height } }
  schedulers defaultScheduler steps { min max default } guidance { min max default } promptTokens hasJudge
  csa { layers defaultRate identityWrite } workersOnline available`;

const STORY = `id model width height steps scheduler frames { edges { node { id currentRender { model width height scheduler image { width height }
  promptWarnings { code words } prompt }
  renders { edges { node { model width height } } } } } }`;

describe('models in the API', () => {
  let api: GenerationApi;
  let key: string;
  let hero: { id: string };
  let workerGeneration: Generation;
  let workers: GenerationWorkers;
  const dirs: string[] = [];

  beforeAll(async () => {
    const apiModels = modelsDir(['story-world', 'sd15-tiny', 'sdxl-tiny'], 'sd15-offline');
    const workerModels = modelsDir(['story-world', 'sd15-tiny', 'sdxl-tiny']);
    dirs.push(apiModels, workerModels);
    const env = { STORYFORGE_MODELS_DIR: apiModels, STORYFORGE_WORKER_HEARTBEAT_SECONDS: '1', STORYFORGE_UNSERVED_JOB_SECONDS: '3' };
    // The API process takes no jobs; a worker (as `storyforge worker` on a GPU host would) holds three of the four packs.
    api = await startGenerationApi({ workers: 0, env });
    const config = { ...loadConfig({ ...env, STORYFORGE_DATA_DIR: api.dataDir, STORYFORGE_MODELS_DIR: workerModels, STORYFORGE_QUEUE_POLL_SECONDS: '1' }), workers: 1 };
    const log = new Logger('error', { service: 'worker' }, () => undefined);
    workerGeneration = createGeneration(config, api.db.url, log);
    workers = await startGenerationWorkers(config, api.db.dataSource, workerGeneration, log);
    key = (await api.createProject('Models')).secret;
    hero = await createCharacter(api, key, 'Hero', { description: 'a person with red hair and a blue cap', seed: 4, consistency: { identityFrames: 2 } });
  });
  afterAll(async () => {
    await workers?.stop(1000);
    await workerGeneration?.queue.stop(1000);
    await api?.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  const create = (input: Record<string, unknown>) =>
    api.gql(`mutation($input: CreateStoryInput!) { createStory(input: $input) { ${STORY} } }`, { input: { characterIds: [hero.id], script: 'Hero waving on the beach', steps: 2, ...input } }, key);
  const story = async (id: string) => (await api.gql(`query($id: ID!) { node(id: $id) { ... on Story { ${STORY} } } }`, { id }, key)).data.node;
  const generate = async (id: string) => {
    const started = await api.gql(`mutation($id: ID!) { generateStory(storyId: $id) { job { ${JOB_FIELDS} } } }`, { id }, key);
    expect(started.errors).toBeUndefined();
    const job = await api.waitForJob(started.data.generateStory.job.id, key);
    const warnings = await api.gql(`query($id: ID!) { node(id: $id) { ... on GenerationJob { promptWarnings { code words position } } } }`, { id: job.id }, key);
    return { ...job, promptWarnings: warnings.data.node.promptWarnings };
  };

  it('lists every pack with what a form needs, and which ones a worker serves', async () => {
    const r = await api.gql(`{ models { ${MODEL_FIELDS} } }`, {}, key);
    expect(r.errors).toBeUndefined();
    const byId = Object.fromEntries(r.data.models.map((m: any) => [m.id, m]));
    expect(Object.keys(byId)).toEqual(['sd15-offline', 'sd15-tiny', 'sdxl-tiny', 'story-world']);
    const world = JSON.parse(readFileSync(join(PACKS, 'story-world', 'manifest.json'), 'utf8'));
    expect(byId['story-world']).toMatchObject({
      family: 'story-world', isDefault: true, promptTokens: world.text.max_length - 2, hasJudge: true, workersOnline: 1, available: true,
      sizes: { rule: 'UPSCALE', native: { width: 32, height: 32 }, default: { width: 256, height: 256 }, multipleOf: null },
      schedulers: ['DDIM', 'EULER_ANCESTRAL', 'DPMPP_2M'], defaultScheduler: world.defaults.scheduler.toUpperCase(),
      steps: { min: 1, max: 150, default: world.defaults.steps }, guidance: { min: 0, max: 30, default: world.defaults.guidance },
      csa: { layers: world.csa.layers, defaultRate: world.csa.default_rate, identityWrite: world.csa.identity_write.toUpperCase() },
    });
    expect(byId['story-world'].sizes.sizes.slice(0, 3)).toEqual([{ width: 32, height: 32 }, { width: 64, height: 64 }, { width: 96, height: 96 }]);
    expect(byId['sd15-tiny']).toMatchObject({
      family: 'sd15', isDefault: false, promptTokens: 75, hasJudge: false, workersOnline: 1, available: true, defaultScheduler: 'DPMPP_2M',
      sizes: { rule: 'MULTIPLE', native: { width: 192, height: 128 }, multipleOf: 64, min: 256, max: 1024, sizes: null },
    });
    expect(byId['sd15-tiny'].csa.layers.length).toBeGreaterThan(0);
    expect(byId['sdxl-tiny']).toMatchObject({
      family: 'sdxl', hasJudge: false, workersOnline: 1, available: true, defaultScheduler: 'EULER_ANCESTRAL',
      sizes: { rule: 'BUCKETS', native: { width: 128, height: 192 }, sizes: [{ width: 128, height: 192 }, { width: 192, height: 128 }, { width: 128, height: 128 }, { width: 256, height: 256 }] },
    });
    expect(byId['sd15-offline']).toMatchObject({ family: 'sd15', workersOnline: 0, available: false });
  });

  it('renders a story on each pack at a size the pack allows, each render remembering its model and size', async () => {
    const cases = [
      { model: 'story-world', width: 512, height: 512 }, // the 32x32 drawing shown 16 times larger
      { model: 'sd15-tiny', width: 256, height: 320 },
      { model: 'sdxl-tiny', width: 192, height: 128 },
    ];
    for (const c of cases) {
      const created = await create({ title: c.model, ...c });
      expect(created.errors).toBeUndefined();
      expect(created.data.createStory).toMatchObject(c);
      const job = await generate(created.data.createStory.id);
      expect({ model: c.model, status: job.status, error: job.error }).toEqual({ model: c.model, status: 'SUCCEEDED', error: null });
      const got = await story(created.data.createStory.id);
      const { promptWarnings, prompt, ...render } = got.frames.edges[0].node.currentRender;
      expect(render).toEqual({ ...c, scheduler: got.scheduler, image: { width: c.width, height: c.height } });
      expect(prompt).toMatch(/waving on the beach$/);
      // The render and its job record what the prompt lost: the story world has no word for "Hero".
      expect(job.promptWarnings).toEqual(promptWarnings.map((w: any) => ({ ...w, position: 1 })));
      if (c.model === 'story-world') expect(promptWarnings).toEqual([{ code: 'UNKNOWN_WORDS', words: ['hero'] }]);
    }
  }, 300_000);

  it('draws in the story\'s style, joining the negative prompts most specific first, and records both on the render', async () => {
    const created = await create({ title: 'Comic', model: 'sd15-tiny', width: 256, height: 256, style: 'Comic book', negativePrompt: 'blurry' });
    const id = created.data.createStory.id;
    const frameId = created.data.createStory.frames.edges[0].node.id;
    await api.gql(`mutation($id: ID!) { updateFrame(id: $id, input: { negativePrompt: "text" }) { id } }`, { id: frameId }, key);
    const job = await generate(id);
    expect({ status: job.status, error: job.error }).toEqual({ status: 'SUCCEEDED', error: null });
    const r = await api.gql(`query($id: ID!) { node(id: $id) { ... on Frame { currentRender { prompt negativePrompt style promptWarnings { code words } } } } }`, { id: frameId }, key);
    const { prompt, promptWarnings, ...rest } = r.data.node.currentRender;
    expect(rest).toEqual({ negativePrompt: 'text, blurry, photo, photorealistic, realism, blurry, washed out', style: 'Comic book' });
    // The tiny pack's small vocabulary spells words in many tokens: the end of the style's words is what the budget cuts.
    const full = 'comic book panel of a person with red hair and a blue cap Hero waving on the beach, bold ink outlines, flat vibrant colours, halftone shading, graphic novel art';
    expect(promptWarnings.map((w: any) => w.code)).toEqual(['PART_SHORTENED']);
    expect(`${prompt} ${promptWarnings[0].words.join(' ')}`).toBe(full);
  });

  it('refuses an unknown pack and a size the pack does not render, writing nothing', async () => {
    const before = await api.db.owner.query(`SELECT count(*)::int AS n FROM stories`);
    const unknown = await create({ title: 'x', model: 'no-such-pack' });
    expect(unknown.errors?.[0]?.extensions).toMatchObject({ code: 'UNKNOWN_MODEL', field: 'model' });
    expect(unknown.errors?.[0]?.message).toMatch(/"no-such-pack" is not installed.*sd15-tiny/);
    const sd15 = await create({ title: 'x', model: 'sd15-tiny', width: 300, height: 256 });
    expect(sd15.errors?.[0]?.extensions).toMatchObject({ code: 'UNSUPPORTED_SIZE', field: 'width' });
    expect(sd15.errors?.[0]?.message).toMatch(/multiples of 64 from 256 to 1024/);
    const sdxl = await create({ title: 'x', model: 'sdxl-tiny', width: 1000, height: 1000 });
    expect(sdxl.errors?.[0]?.extensions).toMatchObject({ code: 'UNSUPPORTED_SIZE', field: 'width' });
    const world = await create({ title: 'x', width: 100, height: 100 });
    expect(world.errors?.[0]?.extensions).toMatchObject({ code: 'UNSUPPORTED_SIZE' });
    expect((await api.db.owner.query(`SELECT count(*)::int AS n FROM stories`)).rows[0].n).toBe(before.rows[0].n);
  });

  it('fails the job of a pack no live worker serves with NO_WORKER', async () => {
    const created = await create({ title: 'Offline', model: 'sd15-offline', width: 256, height: 256 });
    expect(created.errors).toBeUndefined();
    const job = await generate(created.data.createStory.id);
    expect(job.status).toBe('FAILED');
    expect(job.error.code).toBe('NO_WORKER');
    expect(job.error.message).toMatch(/no worker serving the sd15-offline model pack/);
  });

  it('keeps frames and renders when a story changes model, and draws the character with the new one', async () => {
    const created = await create({ title: 'Switch' });
    const id = created.data.createStory.id;
    expect((await generate(id)).status).toBe('SUCCEEDED');
    const refused = await api.gql(`mutation($id: ID!) { updateStory(id: $id, input: { model: "sdxl-tiny", width: 256, height: 320 }) { id } }`, { id }, key);
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'UNSUPPORTED_SIZE' });
    const moved = await api.gql(`mutation($id: ID!) { updateStory(id: $id, input: { model: "sd15-tiny", width: 256, height: 256 }) { model width height scheduler } }`, { id }, key);
    expect(moved.data.updateStory).toMatchObject({ model: 'sd15-tiny', width: 256, height: 256 });
    expect((await generate(id)).status).toBe('SUCCEEDED');
    const frame = (await story(id)).frames.edges[0].node;
    expect(frame.renders.edges.map((e: any) => e.node)).toEqual([
      { model: 'story-world', width: 256, height: 256 },
      { model: 'sd15-tiny', width: 256, height: 256 },
    ]);
    expect(frame.currentRender.model).toBe('sd15-tiny');
    // One anchor per model the character was drawn with (banks are per anchor version and model).
    const anchors = await api.db.owner.query(`SELECT pack FROM character_anchors WHERE character_id = $1 ORDER BY pack`, [decodeId(hero.id)]);
    expect(anchors.rows.map((r: any) => r.pack)).toEqual(['sd15-tiny', 'sdxl-tiny', 'story-world']);
  });
});
