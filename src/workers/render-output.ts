/**
 * A rendered picture to stored files: PNG at the pack's display upscale, WebP and a thumbnail
 * (src/images), each put in the image store under its content hash.
 */
import { createHash } from 'node:crypto';
import type { RgbImage } from '../engine/pipelines/decode';
import type { StoredImage } from '../domain/renders/render-writer';
import { EncodedImage, Upscale, encodeRender } from '../images';
import { ImageStore, imageKey } from '../storage/image-store';

export interface StoredRender {
  png: StoredImage;
  webp: StoredImage;
  thumbnail: StoredImage;
  encodeMs: number;
  storeMs: number;
}

async function store(images: ImageStore, projectId: string, image: EncodedImage): Promise<StoredImage> {
  const contentHash = createHash('sha256').update(image.bytes).digest('hex');
  const storageKey = imageKey(projectId, contentHash, image.mime);
  await images.put(storageKey, image.bytes, image.mime);
  return { contentHash, mime: image.mime, width: image.width, height: image.height, byteSize: image.bytes.byteLength, storageKey };
}

export async function storeRender(images: ImageStore, projectId: string, picture: RgbImage, upscale: Upscale): Promise<StoredRender> {
  const t0 = performance.now();
  const encoded = await encodeRender(picture, upscale);
  const t1 = performance.now();
  const [png, webp, thumbnail] = await Promise.all([encoded.png, encoded.webp, encoded.thumbnail].map((i) => store(images, projectId, i)));
  return { png: png!, webp: webp!, thumbnail: thumbnail!, encodeMs: t1 - t0, storeMs: performance.now() - t1 };
}
