/**
 * The TypeScript client (clients/typescript) against a real server with a worker, the embedded
 * model and PostgreSQL. The package is built with tsc as a user builds it; its two examples run as
 * child processes and are judged by what they leave behind (PNG files, stories and renders read
 * back through the API); the client's error mapping and job following are checked on real answers.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { Job, StoryForge, StoryForgeError } from '../../clients/typescript/src';
import { GenerationApi, startGenerationApi } from '../support/generation-harness';
import { WebhookReceiver, eventually } from '../support/webhook-receiver';

const ROOT = join(__dirname, '..', '..');
const PACKAGE = join(ROOT, 'clients/typescript');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a built example with node. Asynchronously: the server answering it lives in this process. */
function runExample(name: string, args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(PACKAGE, 'dist/examples', `${name}.js`), ...args], {
      cwd: PACKAGE, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function caught(promise: Promise<unknown>): Promise<StoryForgeError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof StoryForgeError) return error;
    throw error;
  }
  throw new Error('expected a StoryForgeError');
}

const PHASES = ['QUEUED', 'IDENTITY', 'FRAMES', 'DONE'];
const NO_SUCH_JOB = Buffer.from('GenerationJob:00000000-0000-4000-8000-000000000000').toString('base64');

describe('the TypeScript client', () => {
  let api: GenerationApi;
  let receiver: WebhookReceiver;
  let platform: StoryForge;
  let admin: StoryForge;
  let editor: StoryForge;
  let editorKey: string;
  let outDir: string;
  let exampleStoryId: string;
  const env = { STORYFORGE_WEBHOOKS_ALLOW_PRIVATE: '1', STORYFORGE_WEBHOOK_KEY: randomBytes(32).toString('hex') };

  beforeAll(async () => {
    // dist/ is what the examples run and what a user's `npm run build` makes.
    rmSync(join(PACKAGE, 'dist'), { recursive: true, force: true });
    const build = spawnSync(join(ROOT, 'node_modules/.bin/tsc'), ['-p', PACKAGE], { cwd: ROOT, encoding: 'utf8' });
    if (build.status !== 0) throw new Error(`tsc -p clients/typescript failed:\n${build.stdout}${build.stderr}`);

    // The harness's server reads webhook settings from the environment: a local receiver needs private addresses.
    Object.assign(process.env, env);
    receiver = await new WebhookReceiver().start();
    api = await startGenerationApi({ workers: 1 });
    outDir = mkdtempSync(join(tmpdir(), 'sf-client-'));

    platform = new StoryForge({ url: api.url, apiKey: api.platformKey });
    const project = await platform.createProject('Client');
    admin = platform.withKey(project.secret);
    editorKey = (await admin.createApiKey('examples', 'EDITOR')).secret;
    editor = admin.withKey(editorKey);
  }, 120_000);

  afterAll(async () => {
    await Promise.all([platform, admin, editor].map((c) => c?.close()));
    await api?.close();
    await receiver?.stop();
    if (outDir) rmSync(outDir, { recursive: true, force: true });
    for (const name of Object.keys(env)) delete process.env[name];
  });

  it('creates a project with the platform key, then keys of its own', async () => {
    expect(await admin.viewer()).toMatchObject({ role: 'ADMIN', project: { name: 'Client' } });
    expect(await editor.viewer()).toMatchObject({ role: 'EDITOR', project: { name: 'Client' }, apiKey: { name: 'examples', revokedAt: null } });
    const viewerKey = await admin.createApiKey('reader', 'VIEWER');
    expect(viewerKey.secret.startsWith(viewerKey.apiKey.prefix)).toBe(true);
    await admin.revokeApiKey(viewerKey.apiKey.id);
    expect((await caught(admin.withKey(viewerKey.secret).viewer())).code).toBe('UNAUTHENTICATED');
  });

  it('turns errors into StoryForgeError with the stable code, field, path and HTTP status', async () => {
    const size = await caught(editor.createStoryFromScript({ title: 'Odd size', script: '[NC] a field', width: 33, height: 33 }));
    expect(size).toMatchObject({ code: 'UNSUPPORTED_SIZE', field: 'width', path: ['createStory'] });
    expect(typeof size.status).toBe('number');

    const badKey = new StoryForge({ url: api.url, apiKey: `sfk_${'A'.repeat(43)}` });
    const unauthenticated = await caught(badKey.viewer());
    expect(unauthenticated).toMatchObject({ code: 'UNAUTHENTICATED', status: 401 });
    // graphql-ws refuses the same key on connect (4401); the reason carries the code.
    const refused = await caught(badKey.waitForJob(NO_SUCH_JOB));
    expect(refused).toMatchObject({ code: 'UNAUTHENTICATED', closeCode: 4401 });
    await badKey.close();
    // With a good key the subscription itself answers the error.
    expect((await caught(editor.waitForJob(NO_SUCH_JOB))).code).toBe('NOT_FOUND');

    const viewer = admin.withKey((await admin.createApiKey('viewer', 'VIEWER')).secret);
    expect((await caught(viewer.createCharacter({ name: 'Nobody', description: 'a person' }))).code).toBe('FORBIDDEN');
    expect((await caught(viewer.createWebhook(receiver.url, ['JOB_FAILED']))).code).toBe('FORBIDDEN');
    // Refused means nothing was written.
    expect(await admin.webhooks()).toEqual([]);

    const character = await editor.createCharacter({ name: 'Twice', description: 'a person with a top hat' });
    expect(await caught(editor.createCharacter({ name: 'Twice', description: 'someone else' }))).toMatchObject({ code: 'CONFLICT', field: 'name' });
    // An id of another type is as missing as an id that never was.
    expect((await caught(editor.story(character.id))).code).toBe('NOT_FOUND');
    expect((await caught(editor.story('not an id'))).code).toBe('BAD_USER_INPUT');
  });

  it('follows a job over graphql-ws until it finishes, with progress that never goes back; webhooks hear it', async () => {
    const hook = await admin.createWebhook(receiver.url, ['JOB_SUCCEEDED']);
    expect(hook.secret).toMatch(/^whsec_/);
    expect((await admin.webhooks()).map((w) => w.id)).toContain(hook.webhook.id);

    const hero = await editor.createCharacter({ name: 'Runner', description: 'a person with blue hair and a red cap', seed: 5 });
    const story = await editor.createStoryFromScript({
      title: 'Followed', characterIds: [hero.id], steps: 6, seed: 2, script: '[Runner] in the forest # Off.\n[NC] the sea # Gone.',
    });
    const idempotencyKey = `follow-${randomBytes(4).toString('hex')}`;
    const started = await editor.generateStory(story.id, { idempotencyKey });
    expect(started.status).toBe('QUEUED');
    // The header reaches the server: a retry with the same key is the same job, not a second one.
    expect((await editor.generateStory(story.id, { idempotencyKey })).id).toBe(started.id);

    const updates: Job[] = [];
    for await (const update of editor.followJob(started.id)) updates.push(update);

    const last = updates.at(-1)!;
    expect(last).toMatchObject({ id: started.id, status: 'SUCCEEDED', progress: { phase: 'DONE', fraction: 1, label: 'done', framesDone: 2, framesTotal: 2 } });
    // The iterator ended on its own at the first finished state.
    expect(updates.slice(0, -1).every((u) => u.status === 'QUEUED' || u.status === 'RUNNING')).toBe(true);
    expect(updates.length).toBeGreaterThan(1);
    const fractions = updates.map((u) => u.progress.fraction);
    expect(fractions).toEqual([...fractions].sort((a, b) => a - b));
    expect(fractions.every((f) => f >= 0 && f <= 1)).toBe(true);
    const phases = updates.map((u) => PHASES.indexOf(u.progress.phase));
    expect(phases).toEqual([...phases].sort((a, b) => a - b));
    // Seconds of work on these cores: the worker's progress writes (every 250 ms at most) arrive in between.
    expect(updates.some((u) => u.progress.phase === 'IDENTITY' || u.progress.phase === 'FRAMES')).toBe(true);
    // Labels are worded by the server for people; the part that names the phase is what a client can rely on.
    for (const u of updates.filter((x) => x.progress.phase === 'FRAMES')) expect(u.progress.label).toMatch(/^frames? [12](-2)?\/2\b/);
    for (const u of updates.filter((x) => x.progress.phase === 'IDENTITY')) expect(u.progress.label).toMatch(/^identity bank 1\/1\b/);

    // A finished job's subscription sends its state once and completes.
    expect(await editor.waitForJob(started.id)).toMatchObject({ status: 'SUCCEEDED' });

    const job = await editor.job(started.id);
    expect(job.renders).toHaveLength(2);
    const png = await editor.download(job.renders[0]!.url);
    expect(await sharp(png).metadata()).toMatchObject({ format: 'png', width: story.width, height: story.height });
    const tampered = job.renders[0]!.url.replace(/sig=([0-9a-f])/, (_, c: string) => `sig=${c === '0' ? '1' : '0'}`);
    expect(await caught(editor.download(tampered))).toMatchObject({ code: 'DOWNLOAD_FAILED', status: 403 });

    const delivered = await eventually(async () => {
      const log = await admin.webhookDeliveries(hook.webhook.id);
      return log.nodes.find((d) => d.succeeded);
    });
    expect(delivered).toMatchObject({ event: 'JOB_SUCCEEDED', attempt: 1, httpStatus: 204 });
    expect(JSON.parse((await receiver.next()).body)).toMatchObject({ type: 'job.succeeded', data: { job: { id: started.id } } });
    await admin.deleteWebhook(hook.webhook.id);
    expect(await admin.webhooks()).toEqual([]);
  }, 240_000);

  it('runs examples/generate-story: a story from a script, progress labels, the frames as PNGs', async () => {
    const dir = join(outDir, 'story');
    const run = await runExample('generate-story', [dir, '--steps', '4'], { STORYFORGE_URL: api.url, STORYFORGE_API_KEY: editorKey });
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });

    exampleStoryId = /^story (\S+):/m.exec(run.stdout)![1]!;
    const story = await editor.story(exampleStoryId);
    expect(story).toMatchObject({ frameCount: 3, steps: 4, characters: [{ name: 'Mira' }] });
    expect(story.title).toMatch(/^Mira at the sea /);

    const progress = [...run.stdout.matchAll(/^(\d+)% (.+)$/gm)].map((m) => ({ percent: Number(m[1]), label: m[2]! }));
    expect(progress.at(-1)).toEqual({ percent: 100, label: 'done' });
    expect(progress.map((p) => p.percent)).toEqual(progress.map((p) => p.percent).sort((a, b) => a - b));
    expect(progress.slice(0, -1).filter((p) => !/^(queued|starting|identity bank 1\/1\b.*|frames? [1-3](-[23])?\/3\b.*)$/.test(p.label))).toEqual([]);

    const frames = await editor.storyFrames(exampleStoryId);
    expect(readdirSync(dir).sort()).toEqual(['frame-01.png', 'frame-02.png', 'frame-03.png']);
    for (const frame of frames) {
      const file = readFileSync(join(dir, `frame-${String(frame.position).padStart(2, '0')}.png`));
      expect(await sharp(file).metadata()).toMatchObject({ format: 'png', width: story.width, height: story.height });
      expect(Buffer.compare(file, Buffer.from(await editor.download(frame.currentRender!.url)))).toBe(0);
    }
  }, 240_000);

  it('runs examples/regenerate-and-page: a new render in the frame\'s history, and a comic page PNG', async () => {
    expect(exampleStoryId).toBeDefined();
    const [first] = await editor.storyFrames(exampleStoryId);
    const before = first!.currentRender!;
    const dir = join(outDir, 'page');
    const run = await runExample('regenerate-and-page', [exampleStoryId, dir], { STORYFORGE_URL: api.url, STORYFORGE_API_KEY: editorKey });
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });

    const history = await editor.frameRenders(first!.id);
    expect(history.nodes).toHaveLength(2);
    expect(history.nodes.map((r) => [r.id, r.isCurrent])).toEqual([[before.id, false], [expect.any(String), true]]);
    for (const render of history.nodes) expect(run.stdout).toContain(`render ${render.id} seed ${render.seed}`);
    expect(run.stdout).toContain(`render ${history.nodes[1]!.id} seed ${history.nodes[1]!.seed} (current)`);

    const file = readFileSync(join(dir, 'page-1.png'));
    expect(await sharp(file).metadata()).toMatchObject({ format: 'png', width: 1241, height: 1754 });
    // Pages are drawn from the current renders: the same content gives the same bytes.
    const [page] = await editor.comicPages(exampleStoryId, { layout: 'FOUR_PANEL', size: 'A4', dpi: 150 });
    expect(Buffer.compare(file, Buffer.from(await editor.download(page!.url)))).toBe(0);
    expect(page!.panels.map((p) => p.frame?.caption)).toEqual(['The tide is out.', 'A shortcut home.', 'The light comes on.']);
  }, 240_000);

  it('examples stop with one line and a non-zero status on a bad key, a missing setting or bad arguments', async () => {
    const dir = join(outDir, 'refused');
    const badKey = await runExample('generate-story', [dir], { STORYFORGE_URL: api.url, STORYFORGE_API_KEY: `sfk_${'A'.repeat(43)}` });
    expect(badKey.code).toBe(1);
    expect(badKey.stderr).toMatch(/^generate-story: UNAUTHENTICATED: [^\n]+\n$/);
    expect(existsSync(dir)).toBe(false);

    const noUrl = await runExample('regenerate-and-page', ['x', dir], { STORYFORGE_URL: '', STORYFORGE_API_KEY: editorKey });
    expect({ code: noUrl.code, stderr: noUrl.stderr }).toEqual({ code: 1, stderr: expect.stringMatching(/^regenerate-and-page: set STORYFORGE_URL [^\n]+\n$/) });

    const missing = await runExample('regenerate-and-page', [exampleStoryId ?? 'x', dir, '--frame', '9'], { STORYFORGE_URL: api.url, STORYFORGE_API_KEY: editorKey });
    expect({ code: missing.code, stderr: missing.stderr }).toEqual({ code: 1, stderr: 'regenerate-and-page: the story has no frame 9\n' });
  }, 60_000);
});
