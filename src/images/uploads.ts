/**
 * Uploaded pictures (reference images of a character) in, one normal form out: an sRGB PNG
 * with no metadata, upright (EXIF orientation applied, then dropped), alpha flattened on
 * white, named by the SHA-256 of its bytes. Checks happen before decoding where they can:
 * byte size, then the type from the file's magic bytes (the client's content type is not
 * trusted; PNG, JPEG and WebP only: GIF, SVG and anything else is refused), then the declared pixel count (so a
 * small file that inflates to gigapixels is refused before it is decoded).
 */
import { createHash } from 'node:crypto';
import sharp from 'sharp';

export type UploadType = 'png' | 'jpeg' | 'webp' | 'gif';

export const UPLOAD_MIME: Readonly<Record<UploadType, string>> = {
  png: 'image/png', jpeg: 'image/jpeg', webp: 'image/webp', gif: 'image/gif',
};

export interface UploadLimits {
  maxBytes: number;
  /** Longest side allowed, after orientation. */
  maxSide: number;
  /** Shortest side allowed: a reference picture smaller than this shows nothing useful. */
  minSide: number;
  /** Width x height allowed before decoding (decompression bombs). */
  maxPixels: number;
}

export const DEFAULT_UPLOAD_LIMITS: UploadLimits = {
  maxBytes: 10 * 1024 * 1024,
  maxSide: 4096,
  minSide: 16,
  maxPixels: 4096 * 4096,
};

export type UploadErrorCode = 'EMPTY' | 'TOO_LARGE' | 'UNSUPPORTED_TYPE' | 'CORRUPT' | 'TOO_MANY_PIXELS' | 'BAD_SIZE' | 'ANIMATED';

/** An upload that cannot be used; `code` is stable, the message is for people. */
export class ImageUploadError extends Error {
  constructor(readonly code: UploadErrorCode, message: string) {
    super(message);
    this.name = 'ImageUploadError';
  }
}

const startsWith = (b: Uint8Array, sig: readonly number[], at = 0) => sig.every((v, i) => b[at + i] === v);
const ascii = (b: Uint8Array, from: number, to: number) => String.fromCharCode(...b.subarray(from, to));

/** The picture type from the first bytes, or null for anything else. */
export function sniffImageType(bytes: Uint8Array): UploadType | null {
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (bytes.length >= 12 && ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 12) === 'WEBP') return 'webp';
  if (bytes.length >= 6 && (ascii(bytes, 0, 6) === 'GIF87a' || ascii(bytes, 0, 6) === 'GIF89a')) return 'gif';
  return null;
}

export interface NormalisedImage {
  png: Buffer;
  mime: 'image/png';
  width: number;
  height: number;
  byteSize: number;
  /** SHA-256 (hex) of `png`: the same picture uploaded twice, in any container, has one hash. */
  sha256: string;
  /** What was uploaded. */
  sourceType: UploadType;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export async function normaliseUpload(bytes: Uint8Array, limits: UploadLimits = DEFAULT_UPLOAD_LIMITS): Promise<NormalisedImage> {
  if (bytes.length === 0) throw new ImageUploadError('EMPTY', 'the upload is empty');
  if (bytes.length > limits.maxBytes) {
    throw new ImageUploadError('TOO_LARGE', `the upload has ${bytes.length} bytes; at most ${limits.maxBytes} are allowed`);
  }
  const type = sniffImageType(bytes);
  if (!type) throw new ImageUploadError('UNSUPPORTED_TYPE', 'not a PNG, JPEG or WebP picture');
  // Recognised so the answer can say so: a GIF's 256 colours make a poor reference.
  if (type === 'gif') throw new ImageUploadError('UNSUPPORTED_TYPE', 'GIF pictures are not accepted; upload a PNG, JPEG or WebP');

  const input = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let meta: sharp.Metadata;
  try {
    // Reads the header only: the declared size is checked before anything is decoded.
    meta = await sharp(input).metadata();
  } catch (err) {
    throw new ImageUploadError('CORRUPT', `the ${type.toUpperCase()} file cannot be read: ${(err as Error).message}`);
  }
  if (meta.format !== type) throw new ImageUploadError('CORRUPT', `the file starts like ${type} but decodes as ${meta.format}`);
  if ((meta.pages ?? 1) > 1) throw new ImageUploadError('ANIMATED', 'animated pictures are not accepted; upload a still');
  const declared = (meta.width ?? 0) * (meta.height ?? 0);
  if (declared > limits.maxPixels) {
    throw new ImageUploadError('TOO_MANY_PIXELS', `the picture is ${meta.width}x${meta.height}; at most ${limits.maxPixels} pixels are allowed`);
  }
  const width = meta.autoOrient.width;
  const height = meta.autoOrient.height;
  if (Math.max(width, height) > limits.maxSide || Math.min(width, height) < limits.minSide) {
    throw new ImageUploadError('BAD_SIZE', `the picture is ${width}x${height}; each side must be ${limits.minSide} to ${limits.maxSide} pixels`);
  }

  let png: Buffer;
  try {
    // limitInputPixels backs up the check above inside the decoder; failOn 'error' refuses
    // a damaged file rather than half-decoding it. Without keepMetadata sharp converts to
    // sRGB and writes no EXIF, ICC or XMP.
    png = await sharp(input, { limitInputPixels: limits.maxPixels, failOn: 'error', autoOrient: true })
      .flatten({ background: '#ffffff' })
      .toColourspace('srgb')
      .png({ compressionLevel: 9, adaptiveFiltering: false, palette: false })
      .toBuffer();
  } catch (err) {
    throw new ImageUploadError('CORRUPT', `the ${type.toUpperCase()} file cannot be decoded: ${(err as Error).message}`);
  }
  return { png, mime: 'image/png', width, height, byteSize: png.length, sha256: sha256Hex(png), sourceType: type };
}
