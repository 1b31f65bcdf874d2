/**
 * Captions under pictures, typeset by sharp's SVG renderer (librsvg + Pango + fontconfig).
 * Text rendering depends on the fonts of the machine: with none installed, every glyph
 * comes out as the same empty box ("tofu"). `canTypeset()` checks for that once, and
 * callers leave captions out rather than print boxes.
 *
 * Text width is estimated, not measured (SVG cannot report it to us): an average glyph of
 * 0.6 em fits DejaVu/Liberation Sans, the usual fonts on servers. Lines are wrapped at words
 * and the last one is shortened with an ellipsis.
 */
import sharp from 'sharp';

export const CAPTION_FONT = "'DejaVu Sans', 'Liberation Sans', Arial, Helvetica, sans-serif";
const AVERAGE_GLYPH_EM = 0.6;

export function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`)
    // Control characters are not allowed in XML at all (DEL is allowed but never wanted in text).
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '');
}

/** Splits `text` into at most `maxLines` lines of at most `perLine` characters. */
export function wrapCaption(text: string, perLine: number, maxLines: number): string[] {
  const limit = Math.max(1, perLine);
  const words = text.trim().split(/\s+/).filter(Boolean);
  const lines: string[] = [];
  let line = '';
  for (let word of words) {
    while (word.length > limit) {
      // A word longer than a line is cut (URLs, long names).
      if (line) lines.push(line);
      lines.push(word.slice(0, limit));
      word = word.slice(limit);
      line = '';
    }
    if (!line) line = word;
    else if (line.length + 1 + word.length <= limit) line += ' ' + word;
    else {
      lines.push(line);
      line = word;
    }
  }
  if (line) lines.push(line);
  if (lines.length <= maxLines) return lines;
  const kept = lines.slice(0, maxLines);
  const last = kept[maxLines - 1]!;
  kept[maxLines - 1] = (last.length >= limit ? last.slice(0, limit - 1) : last) + '…';
  return kept;
}

/** Characters of caption text that fit in `width` pixels at `fontSize`. */
export function charsPerLine(width: number, fontSize: number): number {
  return Math.max(1, Math.floor(width / (fontSize * AVERAGE_GLYPH_EM)));
}

export interface CaptionBox {
  text: string;
  left: number;
  top: number;
  width: number;
}

export interface CaptionStyle {
  fontSize: number;
  lines: number;
  colour: string;
}

/** Height of a caption strip holding `lines` lines at `fontSize`, with padding. */
export function captionHeight(style: Pick<CaptionStyle, 'fontSize' | 'lines'>): number {
  return Math.ceil(style.lines * style.fontSize * 1.25 + style.fontSize * 0.6);
}

/** One transparent SVG, the size of the sheet, with every caption centred in its box. */
export function captionsSvg(width: number, height: number, boxes: readonly CaptionBox[], style: CaptionStyle): string {
  const lineHeight = style.fontSize * 1.25;
  const texts = boxes.flatMap((box) => {
    const lines = wrapCaption(box.text, charsPerLine(box.width - 8, style.fontSize), style.lines);
    const x = box.left + box.width / 2;
    return lines.map((line, i) => {
      const y = box.top + style.fontSize * 0.3 + lineHeight * i + style.fontSize;
      return `<text x="${x}" y="${y.toFixed(1)}">${escapeXml(line)}</text>`;
    });
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">`
    + `<g font-family="${CAPTION_FONT}" font-size="${style.fontSize}" fill="${style.colour}" text-anchor="middle">`
    + texts.join('') + '</g></svg>';
}

async function rasterise(text: string): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="64" height="32"><rect width="64" height="32" fill="#fff"/>`
    + `<text x="2" y="24" font-family="${CAPTION_FONT}" font-size="22" fill="#000">${text}</text></svg>`;
  return sharp(Buffer.from(svg)).removeAlpha().greyscale().raw().toBuffer();
}

let probe: Promise<boolean> | undefined;

/**
 * Whether this machine draws real glyphs: "il" and "WM" look alike only when both are
 * tofu boxes (or nothing at all). Asked once per process; fonts do not come and go.
 */
export function canTypeset(): Promise<boolean> {
  probe ??= (async () => {
    try {
      const [narrow, wide] = await Promise.all([rasterise('il'), rasterise('WM')]);
      const ink = (b: Buffer) => b.reduce((n, v) => n + (v < 128 ? 1 : 0), 0);
      return ink(narrow) > 0 && ink(wide) > 0 && !narrow.equals(wide);
    } catch {
      return false; // no SVG text support at all
    }
  })();
  return probe;
}
