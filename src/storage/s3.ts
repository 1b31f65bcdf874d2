import type { S3Config } from '../config';
import {
  DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client, S3ClientConfig,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { BankStore } from './bank-store';
import type { ImageStore } from './image-store';

/** Where the shared objects live: the configuration (STORYFORGE_S3_*), and explicit credentials in tests. */
export interface S3Settings extends S3Config {
  /** Unset: the SDK's default chain (AWS_ACCESS_KEY_ID..., profiles, instance roles). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

/** A client for `settings`. Requests that fail on the way (connection refused or reset, timeouts, 5xx, throttling) are retried. */
export function createS3Client(settings: S3Settings): S3Client {
  const config: S3ClientConfig = {
    region: settings.region,
    forcePathStyle: settings.forcePathStyle,
    maxAttempts: settings.maxAttempts,
    retryMode: 'standard',
    // A server that does not answer at all is given up on (and retried) instead of waited for forever.
    requestHandler: { connectionTimeout: 5_000, requestTimeout: 60_000, throwOnRequestTimeout: true },
  };
  if (settings.endpoint) {
    config.endpoint = settings.endpoint;
    // S3-compatible servers do not all know the newer default checksum headers; send them only when an operation requires them.
    config.requestChecksumCalculation = 'WHEN_REQUIRED';
    config.responseChecksumValidation = 'WHEN_REQUIRED';
  }
  if (settings.credentials) config.credentials = settings.credentials;
  return new S3Client(config);
}

/** `prefix` as a key prefix: "" or ending in one "/". */
export function normalizePrefix(prefix: string | undefined): string {
  const trimmed = (prefix ?? '').replace(/^\/+|\/+$/g, '');
  return trimmed === '' ? '' : `${trimmed}/`;
}

function checkKey(key: string): void {
  if (key === '' || key.startsWith('/') || key.split('/').some((part) => part === '..' || part === '.' || part === '')) {
    throw new Error(`object key outside the store: ${key}`);
  }
}

function isNotFound(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
}

async function getObject(client: S3Client, bucket: string, key: string): Promise<Buffer | undefined> {
  try {
    const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    if (!out.Body) return Buffer.alloc(0);
    return Buffer.from(await out.Body.transformToByteArray());
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** Metadata key of the put time (ms since the epoch, the putting host's clock). */
const PUT_AT = 'storyforge-put-at';

/**
 * Images as objects `<prefix>images/<key>` of one bucket. Every put writes the object again (same
 * key, same bytes), which refreshes its time: its Last-Modified, and the `storyforge-put-at`
 * metadata (milliseconds; Last-Modified has whole seconds). `remove` reads both with a HEAD and
 * deletes only an object put before `unlessPutSince`. A put landing between that HEAD and the
 * DELETE (one round trip) is not seen; the janitor's grace period and its in-use check make that
 * a window of milliseconds after a minute.
 */
export class S3ImageStore implements ImageStore {
  readonly client: S3Client;
  readonly bucket: string;
  private readonly prefix: string;
  /** Present when presigning is on (STORYFORGE_S3_PRESIGN=1). */
  readonly presignedUrl?: (key: string, expiresInSeconds: number) => Promise<string>;

  constructor(settings: S3Settings, client: S3Client = createS3Client(settings)) {
    this.client = client;
    this.bucket = settings.bucket;
    this.prefix = `${normalizePrefix(settings.prefix)}images/`;
    if (settings.presign) {
      this.presignedUrl = (key, expiresInSeconds) => {
        if (!Number.isInteger(expiresInSeconds) || expiresInSeconds < 1 || expiresInSeconds > 604_800) {
          return Promise.reject(new Error('a presigned URL lasts 1 s to 7 days'));
        }
        return getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }), { expiresIn: expiresInSeconds });
      };
    }
  }

  /** The object key of an image key. */
  objectKey(key: string): string {
    checkKey(key);
    return this.prefix + key;
  }

  async put(key: string, bytes: Uint8Array, mime: string): Promise<void> {
    await this.client.send(new PutObjectCommand({
      Bucket: this.bucket, Key: this.objectKey(key), Body: bytes, ContentType: mime, ContentLength: bytes.byteLength,
      Metadata: { [PUT_AT]: String(Date.now()) },
    }));
  }

  get(key: string): Promise<Buffer | undefined> {
    return getObject(this.client, this.bucket, this.objectKey(key));
  }

  async has(key: string): Promise<boolean> {
    return (await this.putAt(key)) !== undefined;
  }

  async remove(key: string, unlessPutSince: Date): Promise<boolean> {
    const putAt = await this.putAt(key);
    if (putAt === undefined) return true;
    if (putAt >= unlessPutSince.getTime()) return false;
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
    return true;
  }

  /**
   * When the object was last put (ms), undefined when there is none: the later of its metadata
   * time and its Last-Modified taken as the end of its second (a put within that second counts).
   */
  private async putAt(key: string): Promise<number | undefined> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
      const fromMeta = Number(head.Metadata?.[PUT_AT]);
      const modified = head.LastModified ? Math.floor(head.LastModified.getTime() / 1000) * 1000 + 999 : 0;
      return Math.max(Number.isFinite(fromMeta) ? fromMeta : 0, modified);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }
}

/** Identity banks as objects `<prefix>banks/<key>.sfbank` of the images' bucket, shared by every worker host. */
export class S3BankStore implements BankStore {
  private readonly prefix: string;
  readonly bucket: string;

  constructor(settings: S3Settings, readonly client: S3Client = createS3Client(settings)) {
    this.bucket = settings.bucket;
    this.prefix = `${normalizePrefix(settings.prefix)}banks/`;
  }

  private objectKey(key: string): string {
    checkKey(key);
    return `${this.prefix}${key}.sfbank`;
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const bytes = await getObject(this.client, this.bucket, this.objectKey(key));
    return bytes && new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    await this.client.send(new PutObjectCommand({
      Bucket: this.bucket, Key: this.objectKey(key), Body: bytes, ContentType: 'application/octet-stream', ContentLength: bytes.byteLength,
    }));
  }
}
