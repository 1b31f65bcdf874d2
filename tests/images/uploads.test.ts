import sharp from 'sharp';
import { DEFAULT_UPLOAD_LIMITS, ImageUploadError, normaliseUpload, sha256Hex, sniffImageType, toRgbImage } from '../../src/images';
import { pattern, pngChunks } from './pattern';

const raw = (w: number, h: number, salt = 0) => {
  const p = pattern(w, h, salt);
  return sharp(Buffer.from(p.data), { raw: { width: w, height: h, channels: 3 } });
};

async function rejection(p: Promise<unknown>): Promise<ImageUploadError> {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(ImageUploadError);
  return err as ImageUploadError;
}

describe('uploads', () => {
  it('sniffs the type from the magic bytes', async () => {
    expect(sniffImageType(await raw(4, 4).png().toBuffer())).toBe('png');
    expect(sniffImageType(await raw(4, 4).jpeg().toBuffer())).toBe('jpeg');
    expect(sniffImageType(await raw(4, 4).webp().toBuffer())).toBe('webp');
    expect(sniffImageType(await raw(4, 4).gif().toBuffer())).toBe('gif');
    expect(sniffImageType(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'))).toBeNull();
    expect(sniffImageType(Buffer.from([0x89, 0x50]))).toBeNull();
  });

  it('normalises to an sRGB PNG without metadata, named by its hash', async () => {
    const png = await raw(40, 30).png().toBuffer();
    const out = await normaliseUpload(png);
    expect(out).toMatchObject({ mime: 'image/png', width: 40, height: 30, sourceType: 'png', byteSize: out.png.length });
    expect(out.sha256).toBe(sha256Hex(out.png));
    expect(out.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(pngChunks(out.png).filter((t) => !['IHDR', 'IDAT', 'IEND', 'pHYs'].includes(t))).toEqual([]);
    const back = await toRgbImage(sharp(out.png));
    expect(Buffer.from(back.data).equals(Buffer.from(pattern(40, 30).data))).toBe(true);
  });

  it('gives the same picture the same hash whatever the container', async () => {
    const fromPng = await normaliseUpload(await raw(24, 24).png({ compressionLevel: 1 }).toBuffer());
    const fromWebp = await normaliseUpload(await raw(24, 24).webp({ lossless: true }).toBuffer());
    const other = await normaliseUpload(await raw(24, 24, 1).png().toBuffer());
    expect(fromWebp.sourceType).toBe('webp');
    expect(fromWebp.sha256).toBe(fromPng.sha256);
    expect(other.sha256).not.toBe(fromPng.sha256);
  });

  it('applies the EXIF orientation, then drops EXIF and the ICC profile', async () => {
    const jpeg = await raw(40, 20).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    const before = await sharp(jpeg).metadata();
    expect([before.orientation, before.exif !== undefined]).toEqual([6, true]);
    const out = await normaliseUpload(jpeg);
    expect([out.width, out.height]).toEqual([20, 40]);
    const meta = await sharp(out.png).metadata();
    expect([meta.width, meta.height, meta.orientation, meta.exif, meta.icc, meta.channels]).toEqual([20, 40, undefined, undefined, undefined, 3]);
  });

  it('flattens transparency on white', async () => {
    const rgba = Buffer.alloc(16 * 16 * 4); // fully transparent black
    const out = await normaliseUpload(await sharp(rgba, { raw: { width: 16, height: 16, channels: 4 } }).png().toBuffer());
    const back = await toRgbImage(sharp(out.png));
    expect([...back.data.subarray(0, 3)]).toEqual([255, 255, 255]);
  });

  it('refuses what is not a usable still picture, with a stable code', async () => {
    const png = await raw(64, 64).png().toBuffer();
    expect((await rejection(normaliseUpload(new Uint8Array(0)))).code).toBe('EMPTY');
    expect((await rejection(normaliseUpload(png, { ...DEFAULT_UPLOAD_LIMITS, maxBytes: 100 }))).code).toBe('TOO_LARGE');
    expect((await rejection(normaliseUpload(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>')))).code).toBe('UNSUPPORTED_TYPE');
    expect((await rejection(normaliseUpload(Buffer.from('hello, not a picture at all')))).code).toBe('UNSUPPORTED_TYPE');
    expect((await rejection(normaliseUpload(png.subarray(0, 60)))).code).toBe('CORRUPT');
    const truncated = await rejection(normaliseUpload(png.subarray(0, png.length - 30)));
    expect(truncated.code).toBe('CORRUPT');
    // A JPEG header in front of a PNG: the bytes do not decode as what they claim.
    const disguised = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), png]);
    expect((await rejection(normaliseUpload(disguised))).code).toBe('CORRUPT');
    expect((await rejection(normaliseUpload(await raw(8, 8).png().toBuffer()))).code).toBe('BAD_SIZE');
    expect((await rejection(normaliseUpload(await raw(5000, 20).png().toBuffer()))).code).toBe('BAD_SIZE');
  });

  it('refuses a small file that declares too many pixels before decoding it', async () => {
    // 3000 x 3000 of one colour compresses to a few kilobytes: the classic decompression bomb.
    const bomb = await sharp({ create: { width: 3000, height: 3000, channels: 3, background: '#808080' } }).png().toBuffer();
    expect(bomb.length).toBeLessThan(100_000);
    const err = await rejection(normaliseUpload(bomb, { ...DEFAULT_UPLOAD_LIMITS, maxPixels: 1000 * 1000 }));
    expect(err.code).toBe('TOO_MANY_PIXELS');
    expect(err.message).toContain('3000x3000');
  });

  it('refuses animations, and GIF whatever it holds', async () => {
    const f1 = await raw(16, 16).png().toBuffer();
    const f2 = await raw(16, 16, 5).png().toBuffer();
    const webp = await sharp([f1, f2], { join: { animated: true } }).webp().toBuffer();
    expect((await rejection(normaliseUpload(webp))).code).toBe('ANIMATED');
    expect((await normaliseUpload(await raw(16, 16).webp({ lossless: true }).toBuffer())).sourceType).toBe('webp');
    const still = await rejection(normaliseUpload(await raw(16, 16).gif().toBuffer()));
    expect(still.code).toBe('UNSUPPORTED_TYPE');
    expect(still.message).toContain('GIF');
  });
});
