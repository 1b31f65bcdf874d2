/**
 * Captions typeset by Pango (through sharp) in DejaVu Sans, which ships with the project as an
 * npm package (dejavu-fonts-ttf), so a page looks the same on a machine without any fonts:
 * Latin, Greek, Cyrillic, Armenian, Georgian, Hebrew and Arabic scripts. Pango wraps at words
 * (or inside a word too long for a line) and measures what it draws; a caption that would be
 * taller than its box at the page's type size is set again by Pango's auto-fit, which picks the
 * largest size that fits the box. So a caption is always whole and never leaves its box.
 */
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import { escapeXml } from '../captions';

export const CAPTION_FONT_FAMILY = 'DejaVu Sans';
export const CAPTION_FONT_FILE = join(dirname(require.resolve('dejavu-fonts-ttf/package.json')), 'ttf', 'DejaVuSans.ttf');


export interface TypesetCaption {
  /** RGBA pixels of the ink (trimmed to the text's extent). */
  data: Buffer;
  width: number;
  height: number;
  /** Whether the page's type size fitted, or Pango shrank the text to fit. */
  shrunk: boolean;
}

/**
 * `text` in at most `width` x `height` pixels at `points` on a page of `dpi`, centred lines,
 * dark grey ink on transparent. Null for an empty caption.
 */
export async function typesetCaption(text: string, width: number, height: number, points: number, dpi: number): Promise<TypesetCaption | null> {
  const clean = text.replace(/\s+/g, ' ').trim();
  if (!clean || width < 1 || height < 1) return null;
  // Pango markup is XML: the caption's own text must not be read as markup.
  const markup = `<span foreground="#1e1e1e">${escapeXml(clean)}</span>`;
  const base = { text: markup, font: `${CAPTION_FONT_FAMILY} ${points}`, fontfile: CAPTION_FONT_FILE, width, rgba: true, align: 'centre' as const, wrap: 'word-char' as const };
  let shrunk = false;
  let out = await sharp({ text: { ...base, dpi } }).raw().toBuffer({ resolveWithObject: true });
  if (out.info.height > height || out.info.width > width) {
    shrunk = true;
    out = await sharp({ text: { ...base, font: CAPTION_FONT_FAMILY, height } }).raw().toBuffer({ resolveWithObject: true });
  }
  if (out.info.height > height || out.info.width > width) {
    // Auto-fit answers within its box; this guards the promise above against a future Pango.
    throw new Error(`caption typeset to ${out.info.width}x${out.info.height}, over its ${width}x${height} box`);
  }
  return { data: out.data, width: out.info.width, height: out.info.height, shrunk };
}
