/**
 * Engine pictures to files: PNG at display size (the render's main image), WebP (smaller, for
 * the web) and a thumbnail. Output is a pure function of the pixels and the options: sharp
 * writes no timestamps or metadata, and the encoder settings are fixed here, so the same
 * pixels always give the same bytes (renders are addressed by the hash of their bytes).
 */
import type sharp from 'sharp';
import { NO_UPSCALE, RgbImage, Upscale, rgbPipeline } from './raster';

export interface EncodedImage {
  bytes: Buffer;
  mime: 'image/png' | 'image/webp';
  width: number;
  height: number;
}

/** Fixed PNG settings: changing them changes every render's bytes and hash. */
const PNG: sharp.PngOptions = { compressionLevel: 9, adaptiveFiltering: false, palette: false, progressive: false };

async function encode(pipeline: sharp.Sharp, mime: EncodedImage['mime']): Promise<EncodedImage> {
  const { data, info } = await pipeline.toBuffer({ resolveWithObject: true });
  return { bytes: data, mime, width: info.width, height: info.height };
}

export async function encodePng(image: RgbImage, options: { upscale?: Upscale } = {}): Promise<EncodedImage> {
  return encode(rgbPipeline(image, options.upscale ?? NO_UPSCALE).png(PNG), 'image/png');
}

export interface WebpOptions {
  upscale?: Upscale;
  /** Lossy quality 1-100; omitted: lossless (best for pixel art, where lossy smears edges). */
  quality?: number;
}

function webp(options: WebpOptions): sharp.WebpOptions {
  if (options.quality === undefined) return { lossless: true, effort: 4 };
  if (!Number.isInteger(options.quality) || options.quality < 1 || options.quality > 100) {
    throw new RangeError(`WebP quality must be an integer from 1 to 100, got ${options.quality}`);
  }
  return { quality: options.quality, effort: 4 };
}

export async function encodeWebp(image: RgbImage, options: WebpOptions = {}): Promise<EncodedImage> {
  return encode(rgbPipeline(image, options.upscale ?? NO_UPSCALE).webp(webp(options)), 'image/webp');
}

export interface ThumbnailOptions {
  /** The longest side, in pixels. */
  size?: number;
  /** 'nearest' for pixel art: enlarges by a whole factor so every pixel stays square. */
  kernel?: Upscale['kernel'];
}

export const THUMBNAIL_SIZE = 256;

/** A WebP that fits in size x size; lossless for pixel art (nearest), quality 80 otherwise. */
export async function encodeThumbnail(image: RgbImage, options: ThumbnailOptions = {}): Promise<EncodedImage> {
  const size = options.size ?? THUMBNAIL_SIZE;
  const kernel = options.kernel ?? 'lanczos3';
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`thumbnail size must be a positive integer, got ${size}`);
  const longest = Math.max(image.width, image.height);
  const settings: WebpOptions = kernel === 'nearest' ? {} : { quality: 80 };
  if (kernel === 'nearest' && longest <= size) {
    return encodeWebp(image, { ...settings, upscale: { factor: Math.floor(size / longest), kernel } });
  }
  const pipeline = rgbPipeline(image).resize(size, size, { fit: 'inside', kernel });
  return encode(pipeline.webp(webp(settings)), 'image/webp');
}

export interface RenderImages {
  png: EncodedImage;
  webp: EncodedImage;
  thumbnail: EncodedImage;
}

/** The three files a render keeps (see the renders table): PNG, WebP and a thumbnail. */
export async function encodeRender(image: RgbImage, upscale: Upscale = NO_UPSCALE): Promise<RenderImages> {
  const [png, webpImage, thumbnail] = await Promise.all([
    encodePng(image, { upscale }),
    encodeWebp(image, { upscale }),
    encodeThumbnail(image, { kernel: upscale.kernel }),
  ]);
  return { png, webp: webpImage, thumbnail };
}
