import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { canTypeset, contactSheet, toRgbImage, wrapCaption } from '../../src/images';
import { pattern } from './pattern';

const ROOT = join(__dirname, '../..');
const upscale = { factor: 4, kernel: 'nearest' as const };

function pixel(img: { width: number; data: Uint8Array }, x: number, y: number): number[] {
  const p = (y * img.width + x) * 3;
  return [img.data[p]!, img.data[p + 1]!, img.data[p + 2]!];
}

describe('contact sheet', () => {
  const frames = [0, 1, 2, 3, 4].map((i) => ({ image: pattern(16, 16, i), caption: i === 2 ? '' : `Frame ${i} of the story` }));

  it('lays out the frames in a grid at the pack upscale', async () => {
    const sheet = await contactSheet(frames, { upscale, columns: 3, gap: 6, captions: false });
    expect(sheet).toMatchObject({ columns: 3, rows: 2, width: 6 + 3 * (64 + 6), height: 6 + 2 * (64 + 6), captioned: false });
    const img = await toRgbImage(sharp(sheet.bytes));
    expect([img.width, img.height]).toEqual([sheet.width, sheet.height]);
    // Frame 4 is row 1, column 1; its pixel (3, 5) fills a 4x4 block there.
    const left = 6 + 1 * 70;
    const top = 6 + 1 * 70;
    for (const [dx, dy] of [[0, 0], [3, 3]]) expect(pixel(img, left + 3 * 4 + dx!, top + 5 * 4 + dy!)).toEqual(pixel(frames[4]!.image, 3, 5));
    expect(pixel(img, 2, 2)).toEqual([255, 255, 255]); // the gap is background
  });

  it('typesets captions under the pictures when the fonts allow it', async () => {
    const typeset = await canTypeset();
    const sheet = await contactSheet(frames, { upscale, columns: 5, gap: 4, fontSize: 10 });
    expect(sheet.captioned).toBe(typeset);
    const img = await toRgbImage(sharp(sheet.bytes));
    // Ink in frame 0's caption strip, none under frame 2 (no caption).
    const inkUnder = (column: number) => {
      let dark = 0;
      for (let y = 4 + 64; y < img.height - 4; y++) {
        for (let x = 4 + column * 68; x < 4 + column * 68 + 64; x++) if (pixel(img, x, y)[0]! < 128) dark++;
      }
      return dark;
    };
    if (typeset) {
      expect(img.height).toBeGreaterThan(4 + 64 + 4);
      expect(inkUnder(0)).toBeGreaterThan(10);
      expect(inkUnder(2)).toBe(0);
    } else {
      expect(img.height).toBe(4 + 64 + 4);
    }
  });

  it('is deterministic', async () => {
    const a = await contactSheet(frames, { upscale });
    const b = await contactSheet(frames, { upscale });
    expect(a.bytes.equals(b.bytes)).toBe(true);
  });

  it('escapes caption text and refuses an empty sheet', async () => {
    const sheet = await contactSheet([{ image: pattern(8, 8), caption: '<b> & "quotes" </svg>' }], { upscale });
    expect(sheet.width).toBe(8 + 32 + 8);
    await expect(contactSheet([])).rejects.toThrow('at least one frame');
  });

  it('leaves captions out, and still makes the sheet, on a machine without fonts', () => {
    // fontconfig with no font folders: what a bare container looks like.
    const dir = mkdtempSync(join(tmpdir(), 'sf-nofonts-'));
    try {
      const conf = join(dir, 'fonts.conf');
      writeFileSync(conf, `<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig><cachedir>${dir}</cachedir></fontconfig>`);
      const script = `const i = require('./src/images');
        const image = { width: 4, height: 4, data: new Uint8Array(48) };
        Promise.all([i.canTypeset(), i.contactSheet([{ image, caption: 'hello' }], { upscale: { factor: 2, kernel: 'nearest' } })])
          .then(([t, s]) => process.stdout.write(JSON.stringify({ t, captioned: s.captioned, height: s.height })));`;
      const out = execFileSync(process.execPath, ['-r', './tests/support/ts-register.cjs', '-e', script],
        { cwd: ROOT, env: { ...process.env, FONTCONFIG_FILE: conf }, encoding: 'utf8' });
      expect(JSON.parse(out)).toEqual({ t: false, captioned: false, height: 8 + 8 + 8 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('caption wrapping', () => {
  it('wraps at words, cuts long words and ends with an ellipsis', () => {
    expect(wrapCaption('the quick brown fox jumps', 10, 3)).toEqual(['the quick', 'brown fox', 'jumps']);
    expect(wrapCaption('the quick brown fox jumps', 10, 2)).toEqual(['the quick', 'brown fox…']);
    expect(wrapCaption('abcdefghijklmno', 6, 3)).toEqual(['abcdef', 'ghijkl', 'mno']);
    expect(wrapCaption('   ', 6, 2)).toEqual([]);
  });
});
