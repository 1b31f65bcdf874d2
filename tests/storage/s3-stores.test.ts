/**
 * The S3 image and bank stores against a real S3-protocol server (s3rver, on a local port and a
 * temporary folder), built from configuration the way the processes build them.
 */
import { GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Config, loadConfig } from '../../src/config';
import { FsImageStore } from '../../src/storage/fs-image-store';
import { ImageStore, imageKey } from '../../src/storage/image-store';
import { S3BankStore, S3ImageStore, createS3Client } from '../../src/storage/s3';
import { createBankStore, createImageStore } from '../../src/storage/stores';
import { BankCache } from '../../src/workers/bank-cache';

interface S3rverServer {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
// s3rver ships no types; this is the part of its API the tests use.
const S3rver = require('s3rver') as new (options: {
  address: string; port: number; directory: string; silent: boolean; configureBuckets: { name: string }[];
}) => S3rverServer;

const BUCKET = 'storyforge-test';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const png = (n: number) => Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47]), randomBytes(n)]);
const keyOf = (bytes: Buffer) => imageKey('11111111-2222-3333-4444-555555555555', createHash('sha256').update(bytes).digest('hex'), 'image/png');

describe('S3 stores (s3rver)', () => {
  let dir: string;
  let port: number;
  let server: S3rverServer | undefined;
  let endpoint: string;
  const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };

  async function startServer(): Promise<void> {
    server = new S3rver({ address: '127.0.0.1', port, directory: dir, silent: true, configureBuckets: [{ name: BUCKET }] });
    port = (await server.run()).port;
  }

  async function stopServer(): Promise<void> {
    await server?.close();
    server = undefined;
  }

  /** The configuration a process on a shared bucket would read. */
  function config(env: Record<string, string> = {}): Config {
    return loadConfig({
      STORYFORGE_DATA_DIR: join(dir, 'data'),
      STORYFORGE_S3_BUCKET: BUCKET,
      STORYFORGE_S3_ENDPOINT: endpoint,
      STORYFORGE_S3_FORCE_PATH_STYLE: '1',
      STORYFORGE_S3_PREFIX: 'sf-test',
      STORYFORGE_S3_PRESIGN: '1',
      STORYFORGE_URL_SECRET: randomBytes(32).toString('hex'),
      STORYFORGE_WEBHOOK_KEY: randomBytes(32).toString('hex'),
      ...env,
    });
  }

  /** A plain client, to look at the bucket behind the stores' backs. */
  let raw: S3Client;

  beforeAll(async () => {
    // Credentials come from the SDK's default chain, as in production: here the environment.
    process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
    process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
    dir = mkdtempSync(join(tmpdir(), 'sf-s3-'));
    port = 0;
    await startServer();
    endpoint = `http://127.0.0.1:${port}`;
    raw = createS3Client({ ...config().s3!, maxAttempts: 1 });
  });

  afterAll(async () => {
    await stopServer().catch(() => undefined);
    raw?.destroy();
    rmSync(dir, { recursive: true, force: true });
    process.env.AWS_ACCESS_KEY_ID = saved.id;
    process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
    if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
    if (saved.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
  });

  it('is the image store when STORYFORGE_S3_BUCKET is set, the data dir otherwise', () => {
    expect(createImageStore(config())).toBeInstanceOf(S3ImageStore);
    expect(createBankStore(config())).toBeInstanceOf(S3BankStore);
    const local = loadConfig({ STORYFORGE_DATA_DIR: join(dir, 'data') });
    expect(local.s3).toBeUndefined();
    expect(createImageStore(local)).toBeInstanceOf(FsImageStore);
  });

  it('puts, gets, has and removes images under <prefix>images/', async () => {
    const store = createImageStore(config());
    const bytes = png(2000);
    const key = keyOf(bytes);
    expect(await store.get(key)).toBeUndefined();
    expect(await store.has(key)).toBe(false);
    expect(await store.remove(key, new Date())).toBe(true); // nothing there: nothing left

    await store.put(key, bytes, 'image/png');
    expect(await store.has(key)).toBe(true);
    expect((await store.get(key))!.equals(bytes)).toBe(true);
    const object = await raw.send(new GetObjectCommand({ Bucket: BUCKET, Key: `sf-test/images/${key}` }));
    expect(Buffer.from(await object.Body!.transformToByteArray()).equals(bytes)).toBe(true);
    expect(object.ContentType).toBe('image/png');

    // Put before the cut-off: gone.
    expect(await store.remove(key, new Date(Date.now() + 2000))).toBe(true);
    expect(await store.has(key)).toBe(false);
    expect(await store.get(key)).toBeUndefined();
  });

  it('keeps an image put at or after unlessPutSince, and a re-put of the same bytes counts as put now', async () => {
    const store = createImageStore(config());
    const bytes = png(500);
    const key = keyOf(bytes);
    const before = new Date();
    await store.put(key, bytes, 'image/png');
    expect(await store.remove(key, before)).toBe(false);
    // Exactly at its put time: kept.
    const head = await raw.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `sf-test/images/${key}` }));
    const putAt = Number(head.Metadata?.['storyforge-put-at']);
    expect(putAt).toBeGreaterThanOrEqual(before.getTime());
    expect(await store.remove(key, new Date(putAt))).toBe(false);
    expect(await store.has(key)).toBe(true);

    // Long enough later that the first put (and its Last-Modified second) is before the cut-off...
    await sleep(1200);
    const cutOff = new Date();
    await store.put(key, bytes, 'image/png'); // ...but the same bytes are put again after it
    expect(await store.remove(key, cutOff)).toBe(false);
    expect((await store.get(key))!.equals(bytes)).toBe(true);
    // Without that re-put the same cut-off takes it.
    const other = png(500);
    const otherKey = keyOf(other);
    await store.put(otherKey, other, 'image/png');
    await sleep(1200);
    expect(await store.remove(otherKey, new Date())).toBe(true);
    expect(await store.has(otherKey)).toBe(false);
  });

  it('stores identity banks under <prefix>banks/ that a fresh cache (another worker) reads without rebuilding', async () => {
    const store = createBankStore(config());
    const key = createHash('sha256').update('bank').digest('hex');
    expect(await store.get(key)).toBeUndefined();
    const bank = new Uint8Array(randomBytes(4096));
    await store.put(key, bank);
    expect(Buffer.from((await store.get(key))!).equals(Buffer.from(bank))).toBe(true);
    await raw.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `sf-test/banks/${key}.sfbank` })); // rejects when absent

    let builds = 0;
    const built = new Uint8Array(300).fill(5);
    await new BankCache(createBankStore(config()), 1000).get('cached', async () => {
      builds++;
      return built;
    });
    const other = new BankCache(createBankStore(config()), 1000);
    const again = await other.get('cached', async () => {
      builds++;
      return new Uint8Array(300);
    });
    expect(builds).toBe(1);
    expect(Array.from(again)).toEqual(Array.from(built));
    expect(other.snapshot()).toMatchObject({ diskHits: 1, misses: 0 });
  });

  it('makes presigned GET URLs that fetch() opens without credentials, only with STORYFORGE_S3_PRESIGN=1', async () => {
    const store = createImageStore(config());
    const bytes = png(1500);
    const key = keyOf(bytes);
    await store.put(key, bytes, 'image/png');
    expect(store.presignedUrl).toBeDefined();
    const url = await store.presignedUrl!(key, 60);
    expect(url.startsWith(`${endpoint}/${BUCKET}/sf-test/images/${key}?`)).toBe(true);
    expect(new URL(url).searchParams.get('X-Amz-Expires')).toBe('60');
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(Buffer.from(await response.arrayBuffer()).equals(bytes)).toBe(true);
    // The signature covers the key: the same query on another image is refused.
    const elsewhere = url.replace(key, keyOf(png(10)));
    expect((await fetch(elsewhere)).ok).toBe(false);
    // And no URL at all without the setting, nor from the disk store.
    expect(createImageStore(config({ STORYFORGE_S3_PRESIGN: '' })).presignedUrl).toBeUndefined();
    const disk: ImageStore = new FsImageStore(join(dir, 'data', 'images'));
    expect(disk.presignedUrl).toBeUndefined();
    await expect(store.presignedUrl!(key, 0)).rejects.toThrow('1 s to 7 days');
  });

  it('talks path-style to a named endpoint with STORYFORGE_S3_FORCE_PATH_STYLE=1', async () => {
    const named = `http://localhost:${port}`;
    const pathStyle = createImageStore(config({ STORYFORGE_S3_ENDPOINT: named }));
    const bytes = png(300);
    const key = keyOf(bytes);
    await pathStyle.put(key, bytes, 'image/png');
    expect((await pathStyle.get(key))!.equals(bytes)).toBe(true);
    expect(await pathStyle.presignedUrl!(key, 60)).toMatch(new RegExp(`^http://localhost:${port}/${BUCKET}/sf-test/images/`));
    // Without the setting the bucket goes into the host name (virtual-host style).
    const virtual = createImageStore(config({ STORYFORGE_S3_ENDPOINT: named, STORYFORGE_S3_FORCE_PATH_STYLE: '' }));
    expect(await virtual.presignedUrl!(key, 60)).toMatch(new RegExp(`^http://${BUCKET}\\.localhost:${port}/sf-test/images/`));
  });

  it('retries through a restart of the server: what was issued while it was down succeeds, nothing stored before is lost', async () => {
    const store = createImageStore(config({ STORYFORGE_S3_MAX_ATTEMPTS: '20' }));
    const banks = createBankStore(config({ STORYFORGE_S3_MAX_ATTEMPTS: '20' }));
    const noRetries = createImageStore(config({ STORYFORGE_S3_MAX_ATTEMPTS: '1' }));
    const first = png(800);
    const second = png(900);
    const bankKey = createHash('sha256').update('restart bank').digest('hex');
    const bank = new Uint8Array(randomBytes(2048));
    await store.put(keyOf(first), first, 'image/png');
    await banks.put(bankKey, bank);

    await stopServer();
    // One try only: fails at once while the server is down.
    await expect(noRetries.get(keyOf(first))).rejects.toThrow();
    let settled = false;
    const putWhileDown = store.put(keyOf(second), second, 'image/png').finally(() => {
      settled = true;
    });
    const getWhileDown = store.get(keyOf(first));
    await sleep(1500);
    expect(settled).toBe(false); // still retrying
    await startServer(); // same port, same folder
    await putWhileDown;
    expect((await getWhileDown)!.equals(first)).toBe(true);

    expect((await store.get(keyOf(first)))!.equals(first)).toBe(true);
    expect((await store.get(keyOf(second)))!.equals(second)).toBe(true);
    expect(Buffer.from((await banks.get(bankKey))!).equals(Buffer.from(bank))).toBe(true);
  }, 120_000);
});
