/**
 * The engine's raw pixels as a sharp pipeline. Every encoder starts here, so the checks on
 * an RgbImage and the display upscale (nearest neighbour keeps the pixel world's pixels
 * square and crisp) are done in one place.
 */
import sharp from 'sharp';
import type { RgbImage } from '../engine/pipelines/decode';

export type { RgbImage };

export type ResizeKernel = 'nearest' | 'lanczos3';

/** How a decoded picture is enlarged for display: the pack manifest's `upscale`. */
export interface Upscale {
  factor: number;
  kernel: ResizeKernel;
}

export const NO_UPSCALE: Upscale = { factor: 1, kernel: 'nearest' };

/** Upscales above this make pictures nobody asked for (a 32 px frame at 64x is 2048 px). */
const MAX_FACTOR = 64;

export function checkRgb(image: RgbImage): void {
  const { width, height, data } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`image size must be positive integers, got ${width}x${height}`);
  }
  if (data.length !== width * height * 3) {
    throw new RangeError(`a ${width}x${height} RGB image needs ${width * height * 3} bytes, got ${data.length}`);
  }
}

export function checkUpscale(upscale: Upscale): void {
  if (!Number.isInteger(upscale.factor) || upscale.factor < 1 || upscale.factor > MAX_FACTOR) {
    throw new RangeError(`upscale factor must be an integer from 1 to ${MAX_FACTOR}, got ${upscale.factor}`);
  }
  if (upscale.kernel !== 'nearest' && upscale.kernel !== 'lanczos3') {
    throw new RangeError(`upscale kernel must be nearest or lanczos3, got ${String(upscale.kernel)}`);
  }
}

/** Raw RGB bytes as sharp input (no copy). */
export function rawInput(image: RgbImage): { input: Buffer; raw: { width: number; height: number; channels: 3 } } {
  checkRgb(image);
  const input = Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  return { input, raw: { width: image.width, height: image.height, channels: 3 } };
}

/** A sharp pipeline over the picture, enlarged by `upscale`. */
export function rgbPipeline(image: RgbImage, upscale: Upscale = NO_UPSCALE): sharp.Sharp {
  checkUpscale(upscale);
  const { input, raw } = rawInput(image);
  const pipeline = sharp(input, { raw });
  if (upscale.factor === 1) return pipeline;
  return pipeline.resize(image.width * upscale.factor, image.height * upscale.factor, { kernel: upscale.kernel, fit: 'fill' });
}

/** An encoded picture (PNG, WebP, ...) back to RGB pixels: stored renders for contact sheets and checks. */
export async function decodeImage(bytes: Uint8Array): Promise<RgbImage> {
  return toRgbImage(sharp(bytes));
}

/** The RGB bytes sharp holds after a pipeline (for checks and composition). */
export async function toRgbImage(pipeline: sharp.Sharp): Promise<RgbImage> {
  const { data, info } = await pipeline.removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}
