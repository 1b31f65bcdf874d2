/**
 * A contact sheet: the frames of a story in a grid, each enlarged by the pack's upscale,
 * with its caption typeset underneath when the machine has fonts (see captions.ts). Without
 * fonts the sheet is the grid alone and `captioned` says so; nothing fails.
 */
import sharp from 'sharp';
import { CaptionBox, canTypeset, captionHeight, captionsSvg } from './captions';
import { NO_UPSCALE, RgbImage, Upscale, checkUpscale, rgbPipeline } from './raster';

export interface SheetFrame {
  image: RgbImage;
  /** Typeset under the picture; empty or omitted: no caption. */
  caption?: string;
}

export interface ContactSheetOptions {
  /** Pictures per row (default: up to 4, fewer for short stories). */
  columns?: number;
  upscale?: Upscale;
  /** Pixels between cells and around the grid. */
  gap?: number;
  background?: string;
  /** Typeset captions (when fonts allow). Default true. */
  captions?: boolean;
  fontSize?: number;
  /** Caption lines per frame; longer captions end in an ellipsis. */
  captionLines?: number;
}

export interface ContactSheet {
  bytes: Buffer;
  width: number;
  height: number;
  columns: number;
  rows: number;
  /** Whether captions were typeset (false: none asked for, or no fonts on this machine). */
  captioned: boolean;
}

export async function contactSheet(frames: readonly SheetFrame[], options: ContactSheetOptions = {}): Promise<ContactSheet> {
  if (frames.length === 0) throw new RangeError('a contact sheet needs at least one frame');
  const upscale = options.upscale ?? NO_UPSCALE;
  checkUpscale(upscale);
  const columns = options.columns ?? Math.min(4, frames.length);
  if (!Number.isInteger(columns) || columns < 1) throw new RangeError(`columns must be a positive integer, got ${columns}`);
  const gap = options.gap ?? 8;
  const fontSize = options.fontSize ?? 14;
  const lines = options.captionLines ?? 2;
  const rows = Math.ceil(frames.length / columns);

  const cellWidth = Math.max(...frames.map((f) => f.image.width)) * upscale.factor;
  const pictureHeight = Math.max(...frames.map((f) => f.image.height)) * upscale.factor;
  const wanted = (options.captions ?? true) && frames.some((f) => (f.caption ?? '').trim() !== '');
  const captioned = wanted && (await canTypeset());
  const strip = captioned ? captionHeight({ fontSize, lines }) : 0;
  const cellHeight = pictureHeight + strip;
  const width = gap + columns * (cellWidth + gap);
  const height = gap + rows * (cellHeight + gap);

  const layers: sharp.OverlayOptions[] = [];
  const boxes: CaptionBox[] = [];
  for (const [i, frame] of frames.entries()) {
    const left = gap + (i % columns) * (cellWidth + gap);
    const top = gap + Math.floor(i / columns) * (cellHeight + gap);
    const { data, info } = await rgbPipeline(frame.image, upscale).raw().toBuffer({ resolveWithObject: true });
    // Smaller pictures sit centred in their cell.
    layers.push({
      input: data, raw: { width: info.width, height: info.height, channels: 3 },
      left: left + Math.floor((cellWidth - info.width) / 2), top: top + Math.floor((pictureHeight - info.height) / 2),
    });
    const caption = (frame.caption ?? '').trim();
    if (captioned && caption) boxes.push({ text: caption, left, top: top + pictureHeight, width: cellWidth });
  }
  if (boxes.length > 0) {
    const svg = captionsSvg(width, height, boxes, { fontSize, lines, colour: '#1e1e1e' });
    layers.push({ input: Buffer.from(svg), left: 0, top: 0 });
  }

  const bytes = await sharp({ create: { width, height, channels: 3, background: options.background ?? '#ffffff' } })
    .composite(layers)
    .removeAlpha() // the caption layer is RGBA; the sheet is opaque
    .png({ compressionLevel: 9, adaptiveFiltering: false })
    .toBuffer();
  return { bytes, width, height, columns, rows, captioned };
}
