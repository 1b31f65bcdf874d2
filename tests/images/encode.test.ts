import sharp from 'sharp';
import { encodePng, encodeRender, encodeThumbnail, encodeWebp, toRgbImage } from '../../src/images';
import { pattern, pngChunks } from './pattern';

async function decode(bytes: Buffer) {
  return toRgbImage(sharp(bytes));
}

describe('PNG', () => {
  it('keeps every pixel at factor 1', async () => {
    const image = pattern(13, 7);
    const png = await encodePng(image);
    expect(png).toMatchObject({ mime: 'image/png', width: 13, height: 7 });
    expect(Buffer.from((await decode(png.bytes)).data).equals(Buffer.from(image.data))).toBe(true);
  });

  it('scales up by the pack factor with square nearest-neighbour pixels', async () => {
    const image = pattern(32, 24);
    const png = await encodePng(image, { upscale: { factor: 8, kernel: 'nearest' } });
    expect([png.width, png.height]).toEqual([256, 192]);
    const big = await decode(png.bytes);
    let mismatches = 0;
    for (let y = 0; y < big.height; y++) {
      for (let x = 0; x < big.width; x++) {
        const src = ((y >> 3) * image.width + (x >> 3)) * 3;
        const dst = (y * big.width + x) * 3;
        for (let c = 0; c < 3; c++) if (big.data[dst + c] !== image.data[src + c]) mismatches++;
      }
    }
    expect(mismatches).toBe(0);
  });

  it('writes the same bytes for the same pixels, different bytes for different pixels, and no metadata', async () => {
    const upscale = { factor: 4, kernel: 'nearest' as const };
    const a = await encodePng(pattern(20, 20), { upscale });
    const b = await encodePng(pattern(20, 20), { upscale });
    const c = await encodePng(pattern(20, 20, 1), { upscale });
    expect(a.bytes.equals(b.bytes)).toBe(true);
    expect(a.bytes.equals(c.bytes)).toBe(false);
    // pHYs (a fixed pixel density) is all sharp adds: no text, time, EXIF or ICC chunks.
    expect(pngChunks(a.bytes).filter((t) => !['IHDR', 'IDAT', 'IEND', 'pHYs'].includes(t))).toEqual([]);
  });

  it('refuses pixels that do not match the size, and bad upscales', async () => {
    await expect(encodePng({ width: 4, height: 4, data: new Uint8Array(47) })).rejects.toThrow('needs 48 bytes, got 47');
    await expect(encodePng(pattern(4, 4), { upscale: { factor: 0, kernel: 'nearest' } })).rejects.toThrow('upscale factor');
    await expect(encodePng(pattern(4, 4), { upscale: { factor: 2.5, kernel: 'nearest' } })).rejects.toThrow('upscale factor');
  });
});

describe('WebP and thumbnails', () => {
  it('is lossless by default and deterministic', async () => {
    const image = pattern(16, 16);
    const a = await encodeWebp(image, { upscale: { factor: 2, kernel: 'nearest' } });
    const b = await encodeWebp(image, { upscale: { factor: 2, kernel: 'nearest' } });
    expect(a).toMatchObject({ mime: 'image/webp', width: 32, height: 32 });
    expect(a.bytes.subarray(8, 12).toString('latin1')).toBe('WEBP');
    expect(a.bytes.equals(b.bytes)).toBe(true);
    const back = await decode(a.bytes);
    expect(back.data[0]).toBe(image.data[0]);
    const again = await decode((await encodeWebp(image)).bytes);
    expect(Buffer.from(again.data).equals(Buffer.from(image.data))).toBe(true);
  });

  it('encodes lossy when given a quality, and checks it', async () => {
    const lossy = await encodeWebp(pattern(64, 64), { quality: 50 });
    expect(lossy.mime).toBe('image/webp');
    await expect(encodeWebp(pattern(4, 4), { quality: 0 })).rejects.toThrow('quality');
  });

  it('makes thumbnails that fit the size: whole factors for pixel art, fit-inside otherwise', async () => {
    const pixel = await encodeThumbnail(pattern(32, 32), { size: 100, kernel: 'nearest' });
    expect([pixel.width, pixel.height]).toEqual([96, 96]);
    const photo = await encodeThumbnail(pattern(400, 300), { size: 256 });
    expect([photo.width, photo.height]).toEqual([256, 192]);
    expect(photo.mime).toBe('image/webp');
  });

  it('makes the three files of a render', async () => {
    const r = await encodeRender(pattern(32, 32), { factor: 8, kernel: 'nearest' });
    expect([r.png.width, r.webp.width, r.thumbnail.width]).toEqual([256, 256, 256]);
    expect([r.png.mime, r.webp.mime, r.thumbnail.mime]).toEqual(['image/png', 'image/webp', 'image/webp']);
  });
});
