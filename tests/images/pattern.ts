import type { RgbImage } from '../../src/images';

/** A picture where every pixel differs from its neighbours, so any resampling shows. */
export function pattern(width: number, height: number, salt = 0): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = (y * width + x) * 3;
      data[p] = (x * 37 + y * 11 + salt) & 255;
      data[p + 1] = (x * 5 + y * 53 + salt * 3) & 255;
      data[p + 2] = (x * y + 17 + salt * 7) & 255;
    }
  }
  return { width, height, data };
}

/** Chunk types of a PNG file, in order. */
export function pngChunks(bytes: Uint8Array): string[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const types: string[] = [];
  for (let at = 8; at < bytes.length; ) {
    const length = view.getUint32(at);
    types.push(String.fromCharCode(...bytes.subarray(at + 4, at + 8)));
    at += 12 + length;
  }
  return types;
}
