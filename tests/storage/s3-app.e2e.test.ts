/**
 * The app on S3 (a real s3rver): an upload, a generated story's renders and identity bank, and
 * a comic page all land in the bucket, not on local disk; with STORYFORGE_S3_PRESIGN=1 the API
 * answers presigned bucket URLs that a client fetches directly, and the API's own signed image
 * route still serves the same bytes from the bucket.
 */
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { loadConfig } from '../../src/config';
import { createS3Client } from '../../src/storage/s3';
import { GenerationApi, JOB_FIELDS, startGenerationApi } from '../support/generation-harness';
import { createCharacter, createStory, decodeId } from '../support/fixtures';

const S3rver = require('s3rver') as new (options: {
  address: string; port: number; directory: string; silent: boolean; configureBuckets: { name: string }[];
}) => { run(): Promise<AddressInfo>; close(): Promise<void> };

const BUCKET = 'storyforge-app';

describe('the app on S3', () => {
  let dir: string;
  let server: InstanceType<typeof S3rver>;
  let api: GenerationApi;
  let key: string;
  let env: Record<string, string>;
  const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };

  beforeAll(async () => {
    process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
    process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
    dir = mkdtempSync(join(tmpdir(), 'sf-s3-app-'));
    server = new S3rver({ address: '127.0.0.1', port: 0, directory: dir, silent: true, configureBuckets: [{ name: BUCKET }] });
    const { port } = await server.run();
    env = {
      STORYFORGE_S3_BUCKET: BUCKET, STORYFORGE_S3_ENDPOINT: `http://127.0.0.1:${port}`, STORYFORGE_S3_FORCE_PATH_STYLE: '1',
      STORYFORGE_S3_PREFIX: 'app', STORYFORGE_S3_PRESIGN: '1',
      STORYFORGE_URL_SECRET: randomBytes(32).toString('hex'), STORYFORGE_WEBHOOK_KEY: randomBytes(32).toString('hex'),
    };
    api = await startGenerationApi({ workers: 1, env });
    key = (await api.createProject('Bucket')).secret;
  });
  afterAll(async () => {
    await api?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
    for (const [k, v] of [['AWS_ACCESS_KEY_ID', saved.id], ['AWS_SECRET_ACCESS_KEY', saved.secret]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  const objects = async (prefix: string) => {
    const client = createS3Client(loadConfig(env).s3!);
    try {
      const out = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
      return (out.Contents ?? []).map((o) => o.Key!);
    } finally {
      client.destroy();
    }
  };

  it('keeps uploads, renders, banks and pages in the bucket and hands out presigned URLs', async () => {
    const picture = await sharp(resolve(__dirname, '../../bench/consistency/reference-set.png'))
      .extract({ left: 0, top: 64, width: 32, height: 32 }).resize(96, 96, { kernel: 'nearest' }).png().toBuffer();
    const upload = await fetch(api.url.replace(/\/graphql$/, '/uploads'), { method: 'POST', body: new Uint8Array(picture), headers: { authorization: `Bearer ${key}` } });
    expect(upload.status).toBe(201);
    const { id: uploadId } = (await upload.json()) as { id: string };
    const kit = await createCharacter(api, key, 'Kit', { description: 'a person', seed: 3 });
    const anchored = await api.gql(`mutation($c: ID!, $u: ID!) { addReferenceImages(characterId: $c, images: [{ uploadId: $u }]) { referenceImages { url } } }`,
      { c: kit.id, u: uploadId }, key);
    expect(anchored.errors).toBeUndefined();
    const story = await createStory(api, key, { title: 'Bucket story', characterIds: [kit.id], script: 'Kit standing on the beach # One.\nKit walking in the city # Two.', steps: 4 });
    const started = await api.gql(`mutation($id: ID!) { generateStory(storyId: $id) { job { ${JOB_FIELDS} } } }`, { id: story.id }, key);
    expect((await api.waitForJob(started.data.generateStory.job.id, key)).status).toBe('SUCCEEDED');

    const r = await api.gql(`query($id: ID!) { node(id: $id) { ... on Story {
      frames { edges { node { currentRender { url image { id } } } } } pages { url } } } }`, { id: story.id }, key);
    expect(r.errors).toBeUndefined();
    const urls = [anchored.data.addReferenceImages.referenceImages[0].url, ...r.data.node.frames.edges.map((e: any) => e.node.currentRender.url), r.data.node.pages[0].url];
    for (const url of urls) {
      // Straight from the bucket: absolute, presigned, no API in between.
      expect(url).toMatch(new RegExp(`^${env.STORYFORGE_S3_ENDPOINT}/${BUCKET}/app/.*X-Amz-Signature=`));
      const res = await fetch(url);
      expect(res.status).toBe(200);
      expect((await sharp(Buffer.from(await res.arrayBuffer())).metadata()).format).toBe('png');
    }
    // The API's own signed route still serves a render, read from the bucket.
    const projectId = decodeId((await api.gql(`{ viewer { project { id } } }`, {}, key)).data.viewer.project.id);
    const imageId = decodeId(r.data.node.frames.edges[0].node.currentRender.image.id);
    const viaApi = await fetch(api.url.replace(/\/graphql$/, '') + api.generation.signer.sign(projectId, imageId));
    expect(viaApi.status).toBe(200);

    expect((await objects('app/images/')).length).toBeGreaterThanOrEqual(1 + 2 * 3); // the upload; PNG, WebP, thumbnail per render
    expect((await objects('app/banks/')).length).toBe(1);
    expect((await objects(`app/images/${projectId}/pages/`)).length).toBe(2); // the page's PNG and WebP
    // Nothing of it on the local disk.
    for (const sub of ['images', 'banks']) {
      const local = join(api.dataDir, sub);
      expect(existsSync(local) ? readdirSync(local, { recursive: true }).filter((f) => !String(f).endsWith('/')) : []).toEqual([]);
    }
  });
});
