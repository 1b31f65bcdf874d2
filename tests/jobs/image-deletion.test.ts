/**
 * Deleted content is not served nor kept: deleting a story (or a frame) deletes the images only
 * its renders used, so their signed URLs answer 404 at once, and the image janitor removes their
 * files after the grace period. Images shared by content hash with something that stays are kept.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { withTenant } from '../../src/db/tenant-session';
import { NewRender, StoredImage, saveRender } from '../../src/domain/renders/render-writer';
import { ImageJanitor } from '../../src/storage/image-janitor';
import { imageKey } from '../../src/storage/image-store';
import { Logger } from '../../src/util/logger';
import { GenerationApi, startGenerationApi } from '../support/generation-harness';
import { createCharacter, createStory, decodeId } from '../support/fixtures';

const RENDER_URLS = `query($id: ID!) { node(id: $id) { ... on Frame { currentRender { png: url(variant: PNG) webp: url(variant: WEBP) thumb: url(variant: THUMBNAIL) } } } }`;

describe('deleting stories and frames deletes their images', () => {
  let api: GenerationApi;
  let key: string;
  let projectId: string;
  const quiet = new Logger('error', {}, () => undefined);
  const janitor = (graceSeconds: number) => new ImageJanitor({ dataSource: api.db.dataSource, store: api.generation.images, graceSeconds, log: quiet });

  beforeAll(async () => {
    api = await startGenerationApi({ workers: 0, maxActiveJobs: 100 });
    const project = await api.createProject('Deletes');
    key = project.secret;
    projectId = decodeId(project.projectId);
  });
  afterAll(() => api?.close());

  /** Bytes put in the real image store, as the job runner does. */
  async function stored(bytes: Buffer, mime = 'image/png'): Promise<StoredImage> {
    const contentHash = createHash('sha256').update(bytes).digest('hex');
    const storageKey = imageKey(projectId, contentHash, mime);
    await api.generation.images.put(storageKey, bytes, mime);
    return { contentHash, mime, width: 8, height: 8, byteSize: bytes.length, storageKey };
  }

  /** A render saved through the real render writer, for a queued job of the frame's story. */
  async function render(storyId: string, frameId: string, png: StoredImage): Promise<string | undefined> {
    const job = await api.gql(`mutation($s: ID!, $f: [ID!]) { generateStory(storyId: $s, frameIds: $f) { job { id } } }`, { s: storyId, f: [frameId] }, key);
    if (job.errors) throw new Error(JSON.stringify(job.errors));
    const r: NewRender = {
      jobId: decodeId(job.data.generateStory.job.id), frameId: decodeId(frameId),
      png, webp: await stored(randomBytes(40), 'image/webp'), thumbnail: await stored(randomBytes(30)),
      prompt: 'p', negativePrompt: '', seed: 1, steps: 1, guidance: 1, scheduler: 'ddim', model: 'story-world', width: 8, height: 8,
      anchorVersions: {}, timings: {}, durationMs: 1, consistencyScore: null, promptWarnings: [], style: '',
    };
    return withTenant(api.db.dataSource, projectId, (session) => saveRender(session, r));
  }

  async function urls(frameId: string): Promise<string[]> {
    const r = await api.gql(RENDER_URLS, { id: frameId }, key);
    if (r.errors) throw new Error(JSON.stringify(r.errors));
    return Object.values(r.data.node.currentRender as Record<string, string>);
  }

  const status = async (url: string) => (await fetch(url)).status;
  const file = (image: StoredImage) => join(api.dataDir, 'images', image.storageKey);
  const imageRows = async () => (await api.db.owner.query(`SELECT count(*)::int AS n FROM images WHERE project_id = $1`, [projectId])).rows[0].n as number;
  const pending = async () => (await api.db.owner.query(`SELECT count(*)::int AS n FROM image_file_deletions`)).rows[0].n as number;

  it('answers 404 at once for every URL of a deleted story, keeps shared images, and removes the files after the grace period', async () => {
    const doomed = await createStory(api, key, { title: 'Doomed', script: 'one\ntwo' });
    const kept = await createStory(api, key, { title: 'Kept', script: 'three' });
    const shared = await stored(randomBytes(64));
    const own = await stored(randomBytes(64));
    const [d1, d2] = doomed.frames.edges.map((e) => e.node.id);
    const k1 = kept.frames.edges[0]!.node.id;
    await render(doomed.id, d1!, shared);
    await render(doomed.id, d2!, own);
    await render(kept.id, k1, shared);
    const doomedUrls = [...(await urls(d1!)), ...(await urls(d2!))];
    const keptUrls = await urls(k1);
    for (const url of [...doomedUrls, ...keptUrls]) expect(await status(url)).toBe(200);
    const rowsBefore = await imageRows();

    const deleted = await api.gql(`mutation($id: ID!) { deleteStory(id: $id) { deletedId } }`, { id: doomed.id }, key);
    expect(deleted.errors).toBeUndefined();

    // The shared PNG is the kept story's too: still served. Everything else of the doomed story: gone at once.
    const sharedUrl = doomedUrls[0]!;
    for (const url of doomedUrls) expect(await status(url)).toBe(url === sharedUrl ? 200 : 404);
    for (const url of keptUrls) expect(await status(url)).toBe(200);
    expect(await imageRows()).toBe(rowsBefore - 5); // d1's webp and thumbnail, d2's three
    expect(existsSync(file(own))).toBe(true); // the grace period

    expect(await janitor(0).sweep()).toEqual({ removed: 5, kept: 0 });
    expect(existsSync(file(own))).toBe(false);
    expect(existsSync(file(shared))).toBe(true);
    expect(await pending()).toBe(0);
    expect(await status(sharedUrl)).toBe(200);
  });

  it('deletes a frame\'s images with the frame', async () => {
    const story = await createStory(api, key, { title: 'Frames', script: 'a\nb' });
    const [f1, f2] = story.frames.edges.map((e) => e.node.id);
    const png = await stored(randomBytes(64));
    await render(story.id, f1!, png);
    await render(story.id, f2!, await stored(randomBytes(64)));
    const gone = await urls(f1!);
    const stays = await urls(f2!);
    const deleted = await api.gql(`mutation($id: ID!) { deleteFrame(id: $id) { deletedId } }`, { id: f1 }, key);
    expect(deleted.errors).toBeUndefined();
    for (const url of gone) expect(await status(url)).toBe(404);
    for (const url of stays) expect(await status(url)).toBe(200);
    expect((await janitor(0).sweep()).removed).toBe(3);
    expect(existsSync(file(png))).toBe(false);
  });

  it('keeps a file that was put again within the grace period, or that an image row uses again', async () => {
    const story = await createStory(api, key, { title: 'Again', script: 'x' });
    const frame = story.frames.edges[0]!.node.id;
    const bytes = randomBytes(64);
    const png = await stored(bytes);
    await render(story.id, frame, png);
    await api.gql(`mutation($id: ID!) { deleteStory(id: $id) { deletedId } }`, { id: story.id }, key);
    // Due by the clock of the queue, but the PNG was just put again (a render of the same pixels being saved).
    await api.db.owner.query(`UPDATE image_file_deletions SET deleted_at = now() - interval '10 minutes'`);
    await api.generation.images.put(png.storageKey, bytes, 'image/png');
    const longAgo = new Date(Date.now() - 600_000);
    for (const other of (await api.db.owner.query(`SELECT storage_key FROM image_file_deletions WHERE storage_key <> $1`, [png.storageKey])).rows) {
      utimesSync(join(api.dataDir, 'images', other.storage_key), longAgo, longAgo);
    }
    expect(await janitor(60).sweep()).toEqual({ removed: 2, kept: 0 });
    expect(existsSync(file(png))).toBe(true);
    expect(await pending()).toBe(1);

    // The same pixels rendered again for a new story: an image row uses the file, which stays.
    const again = await createStory(api, key, { title: 'Again 2', script: 'x' });
    await render(again.id, again.frames.edges[0]!.node.id, png);
    utimesSync(file(png), longAgo, longAgo);
    expect(await janitor(60).sweep()).toMatchObject({ kept: 1 });
    expect(existsSync(file(png))).toBe(true);
    expect(await pending()).toBe(0);
  });

  it('queues the files of a render whose frame was deleted before it was saved', async () => {
    const story = await createStory(api, key, { title: 'Late', script: 'x' });
    const frame = story.frames.edges[0]!.node.id;
    const png = await stored(randomBytes(64));
    const job = await api.gql(`mutation($s: ID!) { generateStory(storyId: $s) { job { id } } }`, { s: story.id }, key);
    await api.gql(`mutation($id: ID!) { deleteFrame(id: $id) { deletedId } }`, { id: frame }, key);
    const saved = await withTenant(api.db.dataSource, projectId, (session) => saveRender(session, {
      jobId: decodeId(job.data.generateStory.job.id), frameId: decodeId(frame), png, webp: png, thumbnail: png,
      prompt: 'p', negativePrompt: '', seed: 1, steps: 1, guidance: 1, scheduler: 'ddim', model: 'story-world', width: 8, height: 8,
      anchorVersions: {}, timings: {}, durationMs: 1, consistencyScore: null, promptWarnings: [], style: '',
    }));
    expect(saved).toBeUndefined();
    await janitor(0).sweep();
    expect(existsSync(file(png))).toBe(false);
  });

  it('deletes uploads nothing uses once they are old enough, keeping what a character or a render uses', async () => {
    const upload = async (bytes: Buffer, status = 201) => {
      const res = await fetch(api.url.replace(/\/graphql$/, '/uploads'), { method: 'POST', body: new Uint8Array(bytes), headers: { authorization: `Bearer ${key}` } });
      expect(res.status).toBe(status);
      return (await res.json() as { id: string }).id;
    };
    const picture = (r: number) => sharp({ create: { width: 16, height: 16, channels: 3, background: { r, g: 40, b: 90 } } }).png().toBuffer();
    const kept = await upload(await picture(10));
    const unused = await upload(await picture(20));
    const recent = await upload(await picture(30));
    const again = await upload(await picture(40));
    const hero = await createCharacter(api, key, 'Kept');
    const added = await api.gql(`mutation($c: ID!, $u: ID!) { addReferenceImages(characterId: $c, images: [{ uploadId: $u }]) { id } }`, { c: hero.id, u: kept }, key);
    expect(added.errors).toBeUndefined();
    const story = await createStory(api, key, { title: 'Old render', script: 'x' });
    await render(story.id, story.frames.edges[0]!.node.id, await stored(randomBytes(64)));
    // Everything of this project two days old, except the recent upload.
    await api.db.owner.query(`UPDATE images SET created_at = now() - interval '2 days' WHERE project_id = $1 AND id <> $2`, [projectId, decodeId(recent)]);
    const keys = async () => new Map((await api.db.owner.query(`SELECT id, storage_key FROM images WHERE project_id = $1`, [projectId])).rows.map((r) => [r.id, r.storage_key]));
    const before = await keys();
    const unusedFile = join(api.dataDir, 'images', before.get(decodeId(unused))!);
    expect(existsSync(unusedFile)).toBe(true);
    // Sent again (the same image: 200), an old upload starts its time anew.
    expect(await upload(await picture(40), 200)).toBe(again);

    const sweeper = new ImageJanitor({ dataSource: api.db.dataSource, store: api.generation.images, graceSeconds: 0, unusedImageSeconds: 86_400, log: quiet });
    await sweeper.sweep();
    const after = await keys();
    expect([...before.keys()].filter((id) => !after.has(id))).toEqual([decodeId(unused)]);
    expect(after.has(decodeId(kept))).toBe(true);
    expect(after.has(decodeId(recent))).toBe(true);
    expect(after.has(decodeId(again))).toBe(true);
    // Its file goes the way of every deleted image's (here in the same round: no grace period); a character can no longer take it.
    expect(existsSync(unusedFile)).toBe(false);
    const late = await api.gql(`mutation($c: ID!, $u: ID!) { addReferenceImages(characterId: $c, images: [{ uploadId: $u }]) { id } }`, { c: hero.id, u: unused }, key);
    expect(late.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    // Without an age set, nothing unused is deleted.
    await api.db.owner.query(`UPDATE images SET created_at = now() - interval '2 days' WHERE id = $1`, [decodeId(recent)]);
    await janitor(0).sweep();
    expect((await keys()).has(decodeId(recent))).toBe(true);
  });
});
