/**
 * Comic pages without a database: the layouts' geometry, captions that never leave their box
 * (checked on the pixels: white pictures, so any ink outside a caption band is overflow), long
 * and non-Latin captions in the bundled font, the same bytes for the same page, and the PDF and
 * CBZ downloads holding one page per page.
 */
import { unzipSync } from 'fflate';
import { PDFDocument } from 'pdf-lib';
import sharp from 'sharp';
import { comicCbz, comicPdf } from '../../src/images/comic/comic-documents';
import { drawPage } from '../../src/images/comic/comic-page';
import { PageLayout, Rect, planPages } from '../../src/images/comic/page-layout';
import { typesetCaption } from '../../src/images/comic/typeset';

const LONG = 'Mira climbs the old lighthouse stairs at dawn, counting every step out loud while the gulls circle, the fishermen shout '
  + 'from their boats, the nets dry on the pier, and somewhere below the keeper waves a lantern that nobody asked for. '.repeat(2);
const NON_LATIN = 'Мира поднимается — Η Μίρα ανεβαίνει — מירה עולה — ميرا تصعد';

const overlaps = (a: Rect, b: Rect) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
const inside = (a: Rect, outer: Rect) => a.x >= outer.x && a.y >= outer.y && a.x + a.width <= outer.x + outer.width && a.y + a.height <= outer.y + outer.height;

describe('comic page layouts', () => {
  it.each<[PageLayout, number, number]>([['FOUR_PANEL', 9, 3], ['FOUR_PANEL', 4, 1], ['CLASSIC_COMIC', 10, 0], ['CLASSIC_COMIC', 1, 1]])(
    '%s with %i frames: every frame once, in order, inside the margins, no overlaps', (layout, frames, pages) => {
      const plan = planPages({ layout, size: 'A4', dpi: 150, frames, pictureAspect: 1, captions: true, seed: 7 });
      if (pages > 0) expect(plan.pages).toHaveLength(pages);
      const panels = plan.pages.flatMap((p) => p.panels);
      expect(panels.map((p) => p.frame)).toEqual([...Array(frames).keys()]);
      for (const page of plan.pages) {
        expect({ width: page.width, height: page.height }).toEqual({ width: 1241, height: 1754 });
        const area = { x: plan.margin, y: plan.margin, width: page.width - 2 * plan.margin, height: page.height - 2 * plan.margin };
        for (const [i, p] of page.panels.entries()) {
          expect(inside(p.panel, area)).toBe(true);
          expect(p.picture.height + p.caption.height).toBe(p.panel.height);
          for (const q of page.panels.slice(i + 1)) expect(overlaps(p.panel, q.panel)).toBe(false);
        }
      }
    });

  it('four-panel pages are two by two with panels of one size, a short last page included', () => {
    const plan = planPages({ layout: 'FOUR_PANEL', size: 'LETTER', dpi: 100, frames: 5, pictureAspect: 1, captions: true, seed: 1 });
    const sizes = new Set(plan.pages.flatMap((p) => p.panels.map((q) => `${q.panel.width}x${q.panel.height}`)));
    expect(sizes.size).toBeLessThanOrEqual(2); // whole-pixel rounding may differ by one
    const [first] = plan.pages;
    expect(new Set(first!.panels.map((p) => p.panel.x)).size).toBe(2);
    expect(new Set(first!.panels.map((p) => p.panel.y)).size).toBe(2);
    expect(plan.pages[1]!.panels[0]!.panel).toEqual(first!.panels[0]!.panel);
  });

  it("classic comic rows follow the story's seed: the same seed the same pages, another seed another order", () => {
    const shape = (seed: number) => JSON.stringify(planPages({ layout: 'CLASSIC_COMIC', size: 'COMIC', dpi: 100, frames: 24, pictureAspect: 1, captions: false, seed }));
    expect(shape(3)).toBe(shape(3));
    const shapes = new Set([1, 2, 3, 4, 5, 6].map(shape));
    expect(shapes.size).toBeGreaterThan(1);
    // Columns of two half-size panels are part of it, as in StoryDiffusion's layout.
    const plan = planPages({ layout: 'CLASSIC_COMIC', size: 'COMIC', dpi: 100, frames: 24, pictureAspect: 1, captions: false, seed: 3 });
    const widths = new Set(plan.pages.flatMap((p) => p.panels.map((q) => q.panel.width)));
    expect(widths.size).toBeGreaterThan(1);
  });

  it('refuses a dpi out of range', () => {
    expect(() => planPages({ layout: 'FOUR_PANEL', size: 'A4', dpi: 1200, frames: 1, pictureAspect: 1, captions: true, seed: 1 })).toThrow(/dpi/);
  });
});

describe('comic page drawing', () => {
  const white = () => sharp({ create: { width: 64, height: 64, channels: 3, background: '#ffffff' } }).png().toBuffer();

  /** Dark pixels of `rect` shrunk by `inset` on every side. */
  const ink = (raw: Buffer, width: number, rect: Rect, inset: number) => {
    let n = 0;
    for (let y = rect.y + inset; y < rect.y + rect.height - inset; y++) {
      for (let x = rect.x + inset; x < rect.x + rect.width - inset; x++) if (raw[(y * width + x) * 3]! < 160) n++;
    }
    return n;
  };

  it.each<PageLayout>(['FOUR_PANEL', 'CLASSIC_COMIC'])('%s: long and non-Latin captions stay inside their bands, whole', async (layout) => {
    const picture = await white();
    const captions = [LONG, NON_LATIN, 'Short.', '', LONG + LONG];
    const plan = planPages({ layout, size: 'A4', dpi: 100, frames: captions.length, pictureAspect: 1, captions: true, seed: 4 });
    for (const page of plan.pages) {
      const drawn = await drawPage(page, (i) => ({ picture, caption: captions[i]! }), 100, plan.border);
      const raw = await sharp(drawn.png).raw().toBuffer();
      // The pictures are white: ink there would be a caption spilling out. Insets skip the borders.
      for (const p of page.panels) {
        expect({ frame: p.frame, ink: ink(raw, page.width, p.picture, plan.border + 1) }).toEqual({ frame: p.frame, ink: 0 });
        const band = ink(raw, page.width, p.caption, plan.border + 1);
        if (captions[p.frame]) expect(band).toBeGreaterThan(20);
        else expect(band).toBe(0);
      }
      // Nothing outside the panels either (margins and gutters).
      let outside = 0;
      for (let y = 0; y < page.height; y++) {
        for (let x = 0; x < page.width; x++) {
          if (page.panels.some((p) => x >= p.panel.x && x < p.panel.x + p.panel.width && y >= p.panel.y && y < p.panel.y + p.panel.height)) continue;
          if (raw[(y * page.width + x) * 3]! < 250) outside++;
        }
      }
      expect(outside).toBe(0);
      // The long ones had to be set smaller; the short one did not.
      for (const p of page.panels) if (captions[p.frame] === 'Short.') expect(drawn.shrunkCaptions).not.toContain(p.frame);
    }
  });

  it('sets non-Latin scripts in the bundled font: each script draws glyphs, not the same box', async () => {
    const set = async (text: string) => (await typesetCaption(text, 400, 60, 10, 150))!;
    const widths = await Promise.all(['Мира', 'Μίρα', 'מירה', 'ميرا', 'Mira'].map(set));
    for (const t of widths) expect(t.width).toBeGreaterThan(20);
    // Missing glyphs would all be drawn as the same box: different words must differ.
    const pixels = new Set(widths.map((t) => t.data.toString('base64')));
    expect(pixels.size).toBe(5);
    expect((await set('<b>not markup</b> & "quotes"')).width).toBeGreaterThan(100);
    expect(await typesetCaption('   ', 400, 60, 10, 150)).toBeNull();
  });

  it('draws the same page to the same bytes, and a frame without a render as a grey panel', async () => {
    const picture = await sharp({ create: { width: 32, height: 32, channels: 3, background: '#3366cc' } }).png().toBuffer();
    const plan = planPages({ layout: 'FOUR_PANEL', size: 'SQUARE', dpi: 72, frames: 2, pictureAspect: 1, captions: true, seed: 1 });
    const content = (i: number) => ({ picture: i === 0 ? picture : null, caption: `Frame ${i}` });
    const a = await drawPage(plan.pages[0]!, content, 72, plan.border);
    const b = await drawPage(plan.pages[0]!, content, 72, plan.border);
    expect(a.png.equals(b.png)).toBe(true);
    expect(a.webp.equals(b.webp)).toBe(true);
    const raw = await sharp(a.png).raw().toBuffer();
    const centre = (r: Rect) => raw.subarray(((r.y + (r.height >> 1)) * a.width + r.x + (r.width >> 1)) * 3, ((r.y + (r.height >> 1)) * a.width + r.x + (r.width >> 1)) * 3 + 3);
    expect([...centre(plan.pages[0]!.panels[0]!.picture)]).toEqual([0x33, 0x66, 0xcc]);
    expect([...centre(plan.pages[0]!.panels[1]!.picture)]).toEqual([0xd4, 0xd4, 0xd4]);
    expect((await sharp(a.webp).metadata()).format).toBe('webp');
  });
});

describe('comic downloads', () => {
  const pages = async (n: number) => Promise.all(Array.from({ length: n }, async (_, i) => ({
    png: await sharp({ create: { width: 300, height: 420, channels: 3, background: { r: 40 * i, g: 80, b: 120 } } }).png().toBuffer(), width: 300, height: 420,
  })));

  it('a PDF has one page per comic page, at print size, and the same bytes each time', async () => {
    const input = await pages(3);
    const pdf = await comicPdf('Mira & the sea', input, 100);
    const doc = await PDFDocument.load(pdf);
    expect(doc.getPageCount()).toBe(3);
    expect(doc.getTitle()).toBe('Mira & the sea');
    const { width, height } = doc.getPage(0).getSize();
    expect([width, height].map((v) => Math.round(v * 100) / 100)).toEqual([216, 302.4]); // 3 x 4.2 in
    expect((await comicPdf('Mira & the sea', input, 100)).equals(pdf)).toBe(true);
  });

  it('a CBZ holds the pages in order and a ComicInfo.xml', async () => {
    const input = await pages(2);
    const cbz = comicCbz('Mira <3', input);
    const files = unzipSync(new Uint8Array(cbz));
    expect(Object.keys(files).sort()).toEqual(['001.png', '002.png', 'ComicInfo.xml']);
    expect(Buffer.from(files['002.png']!).equals(input[1]!.png)).toBe(true);
    expect(new TextDecoder().decode(files['ComicInfo.xml'])).toContain('<PageCount>2</PageCount>');
    expect(new TextDecoder().decode(files['ComicInfo.xml'])).toContain('Mira &#60;3');
    expect(comicCbz('Mira <3', input).equals(cbz)).toBe(true);
  });
});
