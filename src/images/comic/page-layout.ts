/**
 * Where each frame goes on the pages of a comic: pure geometry, in whole pixels, the same for the
 * same inputs. Every panel is a picture with a caption band under it (when the story has
 * captions), and every panel of a layout has the same shape, so pictures are never squeezed.
 *
 * - FOUR_PANEL: StoryDiffusion's four-panel strip, two by two on every page.
 * - CLASSIC_COMIC: StoryDiffusion's classic comic: rows of four frames (two panels and a column
 *   of two half-size ones) or six (two panels and two columns), in an order drawn from the
 *   story's seed; the last frames fill a row of their own. Rows are stacked down the page and
 *   a row that does not fit starts the next page.
 */
import { createHash } from 'node:crypto';

export type PageLayout = 'FOUR_PANEL' | 'CLASSIC_COMIC';

/** Page sizes in inches (width, height). COMIC: the US comic book trim. */
export const PAGE_SIZES = {
  A4: [8.27, 11.69],
  LETTER: [8.5, 11],
  COMIC: [6.625, 10.25],
  SQUARE: [8, 8],
} as const satisfies Record<string, readonly [number, number]>;

export type PageSize = keyof typeof PAGE_SIZES;

export const DPI_RANGE = { min: 72, max: 300, default: 150 } as const;

export interface LayoutRequest {
  layout: PageLayout;
  size: PageSize;
  dpi: number;
  frames: number;
  /** Width / height of the pictures (the story's render size). */
  pictureAspect: number;
  /** Whether any frame has a caption: without, panels are pictures alone. */
  captions: boolean;
  /** Draws the classic layout's row order. */
  seed: number;
}

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface PanelPlacement {
  /** Index into the story's frames, in story order. */
  frame: number;
  panel: Rect;
  picture: Rect;
  /** Where the caption goes (height 0 without captions). */
  caption: Rect;
}

export interface PagePlan {
  width: number;
  height: number;
  panels: PanelPlacement[];
}

export interface LayoutPlan {
  pages: PagePlan[];
  /** Panel border width and page margin, for the renderer. */
  border: number;
  margin: number;
}

/** Caption band height as a share of the picture's height. */
const CAPTION_SHARE = 0.28;

export function planPages(r: LayoutRequest): LayoutPlan {
  if (!Number.isInteger(r.dpi) || r.dpi < DPI_RANGE.min || r.dpi > DPI_RANGE.max) throw new RangeError(`dpi must be ${DPI_RANGE.min} to ${DPI_RANGE.max}`);
  if (!(r.pictureAspect > 0)) throw new RangeError('pictureAspect must be positive');
  const [wIn, hIn] = PAGE_SIZES[r.size];
  const width = Math.round(wIn * r.dpi);
  const height = Math.round(hIn * r.dpi);
  const margin = Math.round(0.35 * r.dpi);
  const gutter = Math.round(0.12 * r.dpi);
  const border = Math.max(1, Math.round(r.dpi / 75));
  const content = { x: margin, y: margin, width: width - 2 * margin, height: height - 2 * margin };
  // A panel's height per unit of width.
  const panelRatio = (1 / r.pictureAspect) * (r.captions ? 1 + CAPTION_SHARE : 1);
  const rows = r.layout === 'FOUR_PANEL' ? fourPanelRows(r.frames) : classicRows(r.frames, r.seed);
  const pages: PagePlan[] = [];
  type Row = { slots: Slot[]; height: number; panelWidth: number };
  let current: { rows: Row[] } = { rows: [] };
  const pagesOfRows: Row[][] = [];
  let used = 0;
  // A four-panel page is a 2x2 grid even when its last row holds one frame.
  const unitsOf = (slots: Slot[]) => (r.layout === 'FOUR_PANEL' ? 2 : slots.reduce((n, s) => n + (s.kind === 'single' ? 1 : 0.5), 0));
  const gapsOf = (slots: Slot[]) => (r.layout === 'FOUR_PANEL' ? 1 : slots.length - 1) * gutter;
  for (const slots of rows) {
    const units = unitsOf(slots);
    const gaps = gapsOf(slots);
    let panelWidth = (content.width - gaps) / units;
    // A single wide panel (or a short last row) would be taller than the page: shrink it to fit.
    const maxHeight = r.layout === 'FOUR_PANEL' ? (content.height - gutter) / 2 : content.height;
    if (panelWidth * panelRatio > maxHeight) panelWidth = maxHeight / panelRatio;
    const rowHeight = panelWidth * panelRatio;
    const breaks = r.layout === 'FOUR_PANEL' ? current.rows.length === 2 : used + rowHeight > content.height + 0.5;
    if (current.rows.length > 0 && breaks) {
      pagesOfRows.push(current.rows);
      current = { rows: [] };
      used = 0;
    }
    current.rows.push({ slots, height: rowHeight, panelWidth });
    used += rowHeight + gutter;
  }
  if (current.rows.length > 0) pagesOfRows.push(current.rows);

  for (const pageRows of pagesOfRows) {
    const panels: PanelPlacement[] = [];
    const total = pageRows.reduce((n, row) => n + row.height, 0) + (pageRows.length - 1) * gutter;
    // FOUR_PANEL pages keep their grid at the top (a short last page looks like the others);
    // classic pages centre their rows.
    let y = content.y + (r.layout === 'FOUR_PANEL' ? 0 : Math.max(0, (content.height - total) / 2));
    for (const row of pageRows) {
      const rowWidth = unitsOf(row.slots) * row.panelWidth + gapsOf(row.slots);
      let x = content.x + (content.width - rowWidth) / 2;
      for (const slot of row.slots) {
        if (slot.kind === 'single') {
          panels.push(place(slot.frames[0]!, x, y, row.panelWidth, row.height, r.captions));
          x += row.panelWidth + gutter;
        } else {
          const w = row.panelWidth / 2;
          const h = (row.height - gutter) / 2;
          slot.frames.forEach((f, k) => panels.push(place(f, x, y + k * (h + gutter), w, h, r.captions)));
          x += w + gutter;
        }
      }
      y += row.height + gutter;
    }
    pages.push({ width, height, panels });
  }
  return { pages, border, margin };
}

interface Slot {
  kind: 'single' | 'column';
  frames: number[];
}

function place(frame: number, x: number, y: number, w: number, h: number, captions: boolean): PanelPlacement {
  const panel = snap({ x, y, width: w, height: h });
  const pictureHeight = captions ? Math.round(panel.height / (1 + CAPTION_SHARE)) : panel.height;
  return {
    frame, panel,
    picture: { x: panel.x, y: panel.y, width: panel.width, height: pictureHeight },
    caption: { x: panel.x, y: panel.y + pictureHeight, width: panel.width, height: panel.height - pictureHeight },
  };
}

/** Whole pixels: edges rounded, so neighbours never overlap or leave a one-pixel seam. */
function snap(r: Rect): Rect {
  const x = Math.round(r.x);
  const y = Math.round(r.y);
  return { x, y, width: Math.round(r.x + r.width) - x, height: Math.round(r.y + r.height) - y };
}

function fourPanelRows(frames: number): Slot[][] {
  const rows: Slot[][] = [];
  for (let i = 0; i < frames; i += 2) {
    rows.push([i, i + 1].filter((f) => f < frames).map((f) => ({ kind: 'single', frames: [f] })));
  }
  return rows;
}

function classicRows(frames: number, seed: number): Slot[][] {
  const rows: Slot[][] = [];
  let next = 0;
  let row = 0;
  while (next < frames) {
    const left = frames - next;
    // StoryDiffusion's row patterns: 4 frames as [1, 1, 2] and 6 as [1, 1, 2, 2], in a drawn order.
    // What is left decides when the story ends soon, so no row is left with one frame when it can be helped.
    const six = left === 6 || (left >= 8 && draw(seed, row, 'six') % 2 === 0);
    const pattern = six ? [1, 1, 2, 2] : left === 4 || left === 7 || left >= 8 ? [1, 1, 2] : left === 5 ? [1, 1, 1] : Array(left).fill(1);
    const order = shuffle(pattern, seed, row);
    const slots: Slot[] = order.map((n) => {
      const slot: Slot = { kind: n === 1 ? 'single' : 'column', frames: Array.from({ length: n }, (_, k) => next + k) };
      next += n;
      return slot;
    });
    rows.push(slots);
    row++;
  }
  return rows;
}

function draw(seed: number, row: number, what: string): number {
  return createHash('sha256').update(`${seed}:${row}:${what}`).digest().readUInt32BE(0);
}

function shuffle(items: number[], seed: number, row: number): number[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = draw(seed, row, `swap${i}`) % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
