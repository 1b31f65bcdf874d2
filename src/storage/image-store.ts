/**
 * Where image bytes live. Keys are content-addressed paths chosen by the caller
 * (`<project>/<hash prefix>/<hash>.<ext>`), so a put of the same bytes is a no-op and a store
 * never needs a listing. The filesystem store (FsImageStore) is the default; the S3-compatible
 * store (S3ImageStore, STORYFORGE_S3_BUCKET) implements the same calls (a put writes the object
 * again, which refreshes its time; get; head; delete after a head of its time).
 */
export interface ImageStore {
  /**
   * Stores the bytes under `key`; writing the same key twice is harmless (same content). A put of
   * a key already stored marks it as put now, which keeps `remove` from taking it.
   */
  put(key: string, bytes: Uint8Array, mime: string): Promise<void>;
  /** The bytes, or undefined when nothing is stored under `key`. */
  get(key: string): Promise<Buffer | undefined>;
  has(key: string): Promise<boolean>;
  /**
   * Removes what is stored under `key`, unless it was put at or after `unlessPutSince` (a render
   * being saved is about to use it). True when nothing is left under the key.
   */
  remove(key: string, unlessPutSince: Date): Promise<boolean>;
  /**
   * A URL that fetches the bytes under `key` straight from the store, without credentials, for
   * `expiresInSeconds` (1 s to 7 days). Only stores that can make one have it (the S3 store with
   * STORYFORGE_S3_PRESIGN=1); it does not check that the key exists.
   */
  presignedUrl?(key: string, expiresInSeconds: number): Promise<string>;
}

const EXTENSIONS: Record<string, string> = { 'image/png': 'png', 'image/webp': 'webp', 'image/jpeg': 'jpg' };

/** The content-addressed key of an image of a project. */
export function imageKey(projectId: string, contentHash: string, mime: string): string {
  if (!/^[0-9a-f]{64}$/.test(contentHash)) throw new Error('content hash must be a hex SHA-256');
  const ext = EXTENSIONS[mime];
  if (!ext) throw new Error(`no file extension for ${mime}`);
  return `${projectId}/${contentHash.slice(0, 2)}/${contentHash}.${ext}`;
}
