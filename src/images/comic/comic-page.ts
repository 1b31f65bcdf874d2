/**
 * Draws one planned page: white paper, each panel's picture (cover-fitted to its box; a frame
 * without a render is a grey panel), a black border, and its caption typeset in the band below.
 * The same plan, pictures and captions give the same bytes.
 */
import sharp from 'sharp';
import type { PagePlan } from './page-layout';
import { typesetCaption } from './typeset';

export interface PanelContent {
  /** The frame's current render (PNG or WebP bytes); null: not rendered yet. */
  picture: Buffer | null;
  caption: string;
}

export interface DrawnPage {
  png: Buffer;
  webp: Buffer;
  width: number;
  height: number;
  /** Frames whose captions were set smaller than the page's type size to fit their box. */
  shrunkCaptions: number[];
}

/** Caption type size in points (10 pt: a comic's lettering at print size). */
const CAPTION_POINTS = 10;

export async function drawPage(page: PagePlan, content: (frame: number) => PanelContent, dpi: number, border: number): Promise<DrawnPage> {
  const layers: sharp.OverlayOptions[] = [];
  const outlines: string[] = [];
  const shrunkCaptions: number[] = [];
  const pad = Math.max(2, Math.round(dpi * 0.04));
  for (const p of page.panels) {
    const { picture, caption } = content(p.frame);
    if (picture) {
      const input = await sharp(picture).resize(p.picture.width, p.picture.height, { fit: 'cover', position: 'centre', kernel: 'lanczos3' })
        .removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
      layers.push({ input: input.data, raw: { width: input.info.width, height: input.info.height, channels: 3 }, left: p.picture.x, top: p.picture.y });
    } else {
      outlines.push(`<rect x="${p.picture.x}" y="${p.picture.y}" width="${p.picture.width}" height="${p.picture.height}" fill="#d4d4d4"/>`);
    }
    if (p.caption.height > 0) {
      // A hairline between picture and caption; the band itself is the paper.
      outlines.push(`<rect x="${p.caption.x}" y="${p.caption.y}" width="${p.caption.width}" height="${Math.max(1, Math.round(border / 2))}" fill="#000"/>`);
      const box = { width: p.caption.width - 2 * pad - 2 * border, height: p.caption.height - 2 * pad - border };
      const text = await typesetCaption(caption, box.width, box.height, CAPTION_POINTS, dpi);
      if (text) {
        if (text.shrunk) shrunkCaptions.push(p.frame);
        layers.push({
          input: text.data, raw: { width: text.width, height: text.height, channels: 4 },
          left: p.caption.x + border + pad + Math.floor((box.width - text.width) / 2),
          top: p.caption.y + pad + Math.floor((box.height - text.height) / 2),
        });
      }
    }
    const b = border / 2;
    outlines.push(`<rect x="${p.panel.x + b}" y="${p.panel.y + b}" width="${p.panel.width - border}" height="${p.panel.height - border}" fill="none" stroke="#000" stroke-width="${border}"/>`);
  }
  // Placeholders and outlines in one layer on top: a placeholder is where no picture is.
  const svg = Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${page.width}" height="${page.height}">${outlines.join('')}</svg>`);
  const raw = await sharp({ create: { width: page.width, height: page.height, channels: 3, background: '#ffffff' } })
    .composite([...layers, { input: svg, left: 0, top: 0 }])
    .removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const flat = () => sharp(raw.data, { raw: { width: raw.info.width, height: raw.info.height, channels: 3 } });
  const [png, webp] = await Promise.all([
    flat().withMetadata({ density: dpi }).png({ compressionLevel: 6, adaptiveFiltering: false }).toBuffer(),
    flat().webp({ quality: 90, effort: 4 }).toBuffer(),
  ]);
  return { png, webp, width: page.width, height: page.height, shrunkCaptions };
}
