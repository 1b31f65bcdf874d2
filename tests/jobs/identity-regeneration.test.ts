/** @jest-environment ./tests/engine/ort-environment.js */
/**
 * Identity across regenerations (the job system's acceptance test). A 6-frame story is generated
 * by a server process; the process is killed and a new one started with the bank caches gone;
 * frame 3 is regenerated. The new process rebuilds the bank from the anchor recipe bit for bit,
 * renders frame 3 again bit for bit with its old seed, and with a new seed makes a new current
 * render that keeps the history, keeps the anchor version and really reads the rebuilt bank.
 *
 * The judge's identity agreement of that new render with the anchor (its identity frames, as
 * the job system scores every render) and with the story's other frames must be at least 0.8;
 * the same render without the anchor is printed beside it.
 *
 * The character is "a person": its description names no attribute, so its identity comes from
 * the anchor alone and the difference with and without the anchor is the bank's doing.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSecret } from '../../src/domain/api-keys/key-secret';
import { decodeImage } from '../../src/images';
import { StoryEngine } from '../../src/engine/story-engine';
import { float32 } from '../../src/engine/tensor';
import { freePort } from '../../src/util/free-port';
import { TestDatabase, createTestDatabase } from '../support/test-db';

const ROOT = join(__dirname, '..', '..');
const PACK = join(ROOT, 'models', 'packs', 'story-world');
const SCRIPT = ['walking in the forest', 'waving on the beach', 'sitting in the snow', 'jumping in the desert', 'standing in the city', 'standing at night'];
const NEW_SEED = 777_777;

jest.setTimeout(900_000);

describe('identity across regenerations', () => {
  let db: TestDatabase;
  let dataDir: string;
  let port: number;
  let server: ChildProcess | undefined;
  const platformKey = generateSecret('platform');
  let key: string;
  const frames: { id: string; position: number }[] = [];
  let storyRenders: Map<number, { png: string; seed: number; prompt: string; negative: string; hash: string }>;
  let bankBefore: Buffer;

  async function start(): Promise<void> {
    server = spawn(process.execPath, ['-r', join(ROOT, 'tests/support/ts-register.cjs'), join(ROOT, 'src/main.ts')], {
      env: { ...process.env, DATABASE_URL: db.url, STORYFORGE_DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1',
        STORYFORGE_PLATFORM_KEY: platformKey, STORYFORGE_WORKERS: '1', LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    for (;;) {
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false);
      if (ready) return;
      if (server.exitCode !== null) throw new Error(`the server exited with ${server.exitCode}`);
      await new Promise((r) => setTimeout(r, 300));
    }
  }

  async function kill(): Promise<void> {
    const s = server!;
    const exited = new Promise((r) => s.once('exit', r));
    s.kill('SIGKILL');
    await exited;
  }

  async function gql(query: string, variables: Record<string, unknown> = {}, auth = key): Promise<any> {
    const r = await fetch(`http://127.0.0.1:${port}/graphql`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${auth}` }, body: JSON.stringify({ query, variables }),
    });
    const body = (await r.json()) as { data?: any; errors?: unknown[] };
    if (body.errors) throw new Error(JSON.stringify(body.errors));
    return body.data;
  }

  async function finished(jobId: string): Promise<string> {
    for (;;) {
      const { node } = await gql(`query($id: ID!) { node(id: $id) { ... on GenerationJob { status error { code message } } } }`, { id: jobId });
      if (['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(node.status)) return node.status + (node.error ? ` ${node.error.code}: ${node.error.message}` : '');
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  async function currentRenders() {
    const { node } = await gql(`query($id: ID!) { node(id: $id) { ... on Frame { story { frames(first: 10) { edges { node { position
      currentRender { seed prompt png: url(variant: PNG) image { contentHash } job { id } } } } } } } } }`, { id: frames[0]!.id });
    return new Map<number, any>(node.story.frames.edges.map((e: any) => [e.node.position, e.node.currentRender]));
  }

  async function png(url: string): Promise<Buffer> {
    const { pathname, search } = new URL(url);
    const r = await fetch(`http://127.0.0.1:${port}${pathname}${search}`);
    expect(r.status).toBe(200);
    return Buffer.from(await r.arrayBuffer());
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    dataDir = mkdtempSync(join(tmpdir(), 'sf-identity-'));
    port = await freePort();
    await start();
    const project = await gql(`mutation { createProject(input: { name: "Identity" }) { secret } }`, {}, platformKey);
    key = project.createProject.secret;
    const character = (await gql(`mutation { createCharacter(input: { name: "Pat", description: "a person", seed: 4242,
      consistency: { identityFrames: 2 } }) { id } }`)).createCharacter;
    const story = (await gql(`mutation($c: ID!, $s: String!) { createStory(input: { title: "Six", characterIds: [$c], script: $s, seed: 31 }) {
      frames { edges { node { id position } } } } }`, { c: character.id, s: SCRIPT.join('\n') })).createStory;
    frames.push(...story.frames.edges.map((e: any) => e.node));
  });

  afterAll(async () => {
    if (server && server.exitCode === null) await kill();
    await db?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('generates the story, and after a restart without caches rebuilds the same bank and renders frame 3 bit for bit again', async () => {
    const job = (await gql(`mutation($id: ID!) { generateStory(storyId: $id) { job { id } } }`, { id: (await gql(
      `query($id: ID!) { node(id: $id) { ... on Frame { story { id } } } }`, { id: frames[0]!.id })).node.story.id })).generateStory.job;
    expect(await finished(job.id)).toBe('SUCCEEDED');
    const renders = await currentRenders();
    storyRenders = new Map([...renders].map(([position, r]) => [position, { png: r.png, seed: r.seed, prompt: r.prompt, negative: '', hash: r.image.contentHash }]));
    const banks = readdirSync(join(dataDir, 'banks')).filter((f) => f.endsWith('.sfbank'));
    expect(banks).toHaveLength(1);
    bankBefore = readFileSync(join(dataDir, 'banks', banks[0]!));

    await kill();
    rmSync(join(dataDir, 'banks'), { recursive: true, force: true }); // no disk cache: the new process must rebuild
    await start();

    const same = (await gql(`mutation($f: ID!, $seed: Int!) { regenerateFrame(frameId: $f, seed: $seed) { job { id } } }`,
      { f: frames[2]!.id, seed: storyRenders.get(3)!.seed })).regenerateFrame.job;
    expect(await finished(same.id)).toBe('SUCCEEDED');
    const rebuilt = readdirSync(join(dataDir, 'banks')).filter((f) => f.endsWith('.sfbank'));
    expect(createHash('sha256').update(readFileSync(join(dataDir, 'banks', rebuilt[0]!))).digest('hex'))
      .toBe(createHash('sha256').update(bankBefore).digest('hex'));
    expect((await currentRenders()).get(3).image.contentHash).toBe(storyRenders.get(3)!.hash);
  });

  it('regenerates frame 3 with a new seed from the rebuilt anchor: a new current render, history kept, the bank read; keeps the identity: judge agreement with the anchor >= 0.8', async () => {
    const before = (await currentRenders()).get(3);
    const job = (await gql(`mutation($f: ID!, $seed: Int!) { regenerateFrame(frameId: $f, seed: $seed) { job { id } } }`,
      { f: frames[2]!.id, seed: NEW_SEED })).regenerateFrame.job;
    expect(await finished(job.id)).toBe('SUCCEEDED');
    const regenerated = (await currentRenders()).get(3);
    expect(regenerated.seed).toBe(NEW_SEED);
    expect(regenerated.job.id).toBe(job.id);

    // The history: the story's render, the same-seed regeneration and this one; one current.
    const { node: frame } = await gql(`query($id: ID!) { node(id: $id) { ... on Frame { renders(first: 10) { edges { node {
      seed isCurrent anchorVersions consistencyScore job { id } } } } } } }`, { id: frames[2]!.id });
    const history = frame.renders.edges.map((e: any) => e.node);
    expect(history).toHaveLength(3);
    expect(history.filter((r: any) => r.isCurrent).map((r: any) => r.seed)).toEqual([NEW_SEED]);
    expect(history.filter((r: any) => r.seed === storyRenders.get(3)!.seed)).toHaveLength(2);
    const anchors = history.map((r: any) => JSON.stringify(r.anchorVersions));
    expect(new Set(anchors).size).toBe(1);
    expect(Object.keys(history[0].anchorVersions)).toHaveLength(1);
    // Same seed, same bank: the same picture, so the same score; every score is k/5 attributes.
    const sameSeed = history.filter((r: any) => r.seed === storyRenders.get(3)!.seed).map((r: any) => r.consistencyScore);
    expect(sameSeed[0]).toBe(sameSeed[1]);
    for (const r of history) expect([0, 0.2, 0.4, 0.6, 0.8, 1]).toContainEqual(r.consistencyScore);
    expect(history.find((r: any) => r.job.id === before.job.id)?.isCurrent).toBe(false);
    const regeneratedScore: number = history.find((r: any) => r.isCurrent).consistencyScore;

    const engine = await StoryEngine.open(PACK, { judge: true, runtime: { intraOpThreads: 1, interOpThreads: 1 } });
    try {
      const m = engine.manifest;
      const judge = m.judge as { heads: Record<string, string[]>; identity: string[] };
      const heads = judge.identity;
      const factor = m.upscale.factor;
      const pixels = async (bytes: Buffer) => {
        const rgb = await decodeImage(bytes);
        const { width: W, height: H } = m.sample;
        const data = new Float32Array(3 * H * W);
        for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) for (let c = 0; c < 3; c++) {
          data[c * H * W + y * W + x] = rgb.data[((y * factor) * rgb.width + x * factor) * 3 + c]! / 127.5 - 1;
        }
        return float32([1, 3, H, W], data);
      };
      const regeneratedPixels = await pixels(await png(regenerated.png));
      const read = async (bytes: Buffer) => (await engine.judge(await pixels(bytes)))[0]!;
      const others = await Promise.all([1, 2, 4, 5, 6].map(async (p) => read(await png(storyRenders.get(p)!.png))));
      const agreement = (j: Record<string, number>) =>
        others.reduce((sum, o) => sum + heads.filter((h) => o[h] === j[h]).length / heads.length, 0) / others.length;

      const withReading = (await engine.judge(regeneratedPixels))[0]!;
      // The same regeneration (prompt, negative prompt, seed, settings) without the identity bank.
      const plain = await engine.render([{ prompt: regenerated.prompt, negativePrompt: m.defaults.negativePrompt, seed: NEW_SEED, banks: [] }],
        { scheduler: m.defaults.scheduler, steps: m.defaults.steps, guidance: m.defaults.guidance });
      // The worker's render read the bank: without it the same seed and prompt give another picture
      // (the PNG is 8-bit: the same picture would differ by at most one level, 1/127.5 here).
      let diff = 0;
      const a = regeneratedPixels.data as Float32Array, b = plain.pixels[0]!.data as Float32Array;
      for (let i = 0; i < a.length; i++) diff = Math.max(diff, Math.abs(a[i]! - Math.max(-1, Math.min(1, b[i]!))));
      expect(diff).toBeGreaterThan(4 / 127.5);

      const plainReading = (await engine.judge(plain.pixels[0]!))[0]!;
      const withAnchor = agreement(withReading);
      const withoutAnchor = agreement(plainReading);
      const label = (j: Record<string, number>) => heads.map((h) => `${h}=${judge.heads[h]![j[h]!]}`).join(' ');
      const chance = heads.reduce((s, h) => s + 1 / judge.heads[h]!.length, 0) / heads.length;
      process.stdout.write(`\n[identity] judge readings: frames 1,2,4,5,6: ${others.map(label).join(' | ')}; ` +
        `regenerated: ${label(withReading)}; without the anchor: ${label(plainReading)}\n` +
        `[identity] pack ${m.name} (training step ${(JSON.parse(readFileSync(join(PACK, 'manifest.json'), 'utf8')) as { training_step?: number }).training_step}): ` +
        `agreement of the regenerated frame 3 with frames 1,2,4,5,6: with the anchor ${withAnchor.toFixed(3)}, ` +
        `without ${withoutAnchor.toFixed(3)}, uniform chance ${chance.toFixed(3)}; the job's consistency score (agreement with the anchor) ${regeneratedScore}\n`);
      expect(regeneratedScore).toBeGreaterThanOrEqual(0.8);
      expect(withAnchor).toBeGreaterThanOrEqual(0.8);
      // Without the anchor the same seed and prompt draw someone else.
      expect(withoutAnchor).toBeLessThan(withAnchor);
    } finally {
      await engine.dispose();
    }
  });
});
