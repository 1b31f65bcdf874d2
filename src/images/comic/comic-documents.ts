/**
 * A whole comic as one download: a PDF (one page per comic page, at the page's print size) or a
 * CBZ (the comic-book archive readers open: the page PNGs in order, with a ComicInfo.xml). Both
 * carry fixed dates, so the same pages give the same bytes.
 */
import { zipSync } from 'fflate';
import { PDFDocument } from 'pdf-lib';
import { escapeXml } from '../captions';

export interface DocumentPage {
  png: Uint8Array;
  width: number;
  height: number;
}

/** Any fixed time will do; this one is the project's start. */
const FIXED_DATE = new Date('2026-01-01T00:00:00Z');

export async function comicPdf(title: string, pages: readonly DocumentPage[], dpi: number): Promise<Buffer> {
  const pdf = await PDFDocument.create({ updateMetadata: false });
  pdf.setTitle(title);
  pdf.setProducer('StoryForge');
  pdf.setCreator('StoryForge');
  pdf.setCreationDate(FIXED_DATE);
  pdf.setModificationDate(FIXED_DATE);
  for (const page of pages) {
    const image = await pdf.embedPng(page.png);
    // Points are 1/72 inch: the page prints at the size it was drawn for.
    const w = (page.width / dpi) * 72;
    const h = (page.height / dpi) * 72;
    pdf.addPage([w, h]).drawImage(image, { x: 0, y: 0, width: w, height: h });
  }
  return Buffer.from(await pdf.save({ useObjectStreams: false }));
}

export function comicCbz(title: string, pages: readonly DocumentPage[]): Buffer {
  const digits = Math.max(3, String(pages.length).length);
  const files: Record<string, [Uint8Array, { level: 0; mtime: Date }]> = {};
  pages.forEach((p, i) => {
    // PNGs are compressed already: stored as they are.
    files[`${String(i + 1).padStart(digits, '0')}.png`] = [p.png, { level: 0, mtime: FIXED_DATE }];
  });
  const info = `<?xml version="1.0" encoding="utf-8"?>\n<ComicInfo xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">`
    + `<Title>${escapeXml(title)}</Title><PageCount>${pages.length}</PageCount><Notes>Made with StoryForge</Notes></ComicInfo>\n`;
  files['ComicInfo.xml'] = [new TextEncoder().encode(info), { level: 0, mtime: FIXED_DATE }];
  return Buffer.from(zipSync(files));
}
