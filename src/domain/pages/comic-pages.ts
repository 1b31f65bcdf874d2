/**
 * A story as comic pages: drawn on demand from each frame's current render and caption, and kept
 * (story_pages) under a key of everything they show, so asking again costs one lookup. Any
 * change to what a page shows drops the story's pages (triggers, see the migration); a request
 * after that draws them anew. Whole-story downloads (PDF, CBZ) are built from the same pages.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { TenantSession } from '../../db/tenant-session';
import { Story } from '../../db/entities/story.entity';
import { PagePanel, StoryPage, StoryPageFormat } from '../../db/entities/story-page.entity';
import { drawPage } from '../../images/comic/comic-page';
import { comicCbz, comicPdf } from '../../images/comic/comic-documents';
import { DPI_RANGE, PAGE_SIZES, PageLayout, PageSize, planPages } from '../../images/comic/page-layout';
import type { ImageStore } from '../../storage/image-store';
import { badInput, notFound } from '../common/errors';
import { intInRange } from '../common/validation';

export interface PageOptions {
  layout: PageLayout;
  size: PageSize;
  dpi: number;
}

export const DEFAULT_PAGE_OPTIONS: PageOptions = { layout: 'FOUR_PANEL', size: 'A4', dpi: DPI_RANGE.default };

/** Bumped when drawing changes, so pages drawn by an older version are not served as current. */
const RENDERER = 'comic/1';

const MIME: Record<StoryPageFormat, string> = { png: 'image/png', webp: 'image/webp', pdf: 'application/pdf', cbz: 'application/vnd.comicbook+zip' };

interface PageFile {
  format: StoryPageFormat;
  pageIndex: number;
  bytes: Buffer;
  width: number | null;
  height: number | null;
  panels: PagePanel[];
}

interface FrameContent {
  id: string;
  caption: string;
  /** The current render's stored picture, or null. */
  image: { contentHash: string; storageKey: string; width: number; height: number } | null;
}

/** A story at most draws this many option sets at once; older ones are dropped. */
const KEPT_OPTION_SETS = 4;

export class ComicPageService {
  constructor(private readonly store: ImageStore) {}

  /** The story's pages (PNG rows, each with its WebP twin), drawn now if they are not kept. */
  async pages(session: TenantSession, storyId: string, options: PageOptions): Promise<{ png: StoryPage; webp: StoryPage }[]> {
    return (await this.ensurePages(session, storyId, checkOptions(options))).pages;
  }

  /** The whole story as one PDF or CBZ, one page per comic page. */
  async document(session: TenantSession, storyId: string, options: PageOptions, format: 'pdf' | 'cbz'): Promise<{ document: StoryPage; pageCount: number }> {
    const opts = checkOptions(options);
    const { story, key, pages } = await this.ensurePages(session, storyId, opts);
    const [kept] = await this.kept(session, storyId, key, [format]);
    if (kept) return { document: kept, pageCount: pages.length };
    const bytes = await session.withoutConnection(async () => {
      const files = [];
      for (const { png } of pages) {
        const bytes = await this.store.get(png.storageKey);
        if (!bytes) throw new Error(`page file ${png.storageKey} is missing`);
        files.push({ png: bytes, width: png.width!, height: png.height! });
      }
      return format === 'pdf' ? comicPdf(story.title, files, opts.dpi) : comicCbz(story.title, files);
    });
    const [row] = await this.save(session, story, key, [{ format, pageIndex: 0, bytes, width: null, height: null, panels: [] }]);
    return { document: row!, pageCount: pages.length };
  }

  private async ensurePages(session: TenantSession, storyId: string, opts: PageOptions) {
    const { story, frames, key } = await this.state(session, storyId, opts);
    let rows = await this.kept(session, storyId, key, ['png', 'webp']);
    if (rows.length === 0) rows = await this.draw(session, story, frames, key, opts);
    const png = rows.filter((r) => r.format === 'png');
    const pages = png.map((p) => ({ png: p, webp: rows.find((r) => r.format === 'webp' && r.pageIndex === p.pageIndex)! }));
    return { story, key, pages };
  }

  private async state(session: TenantSession, storyId: string, opts: PageOptions) {
    const story = await session.one(Story, `SELECT * FROM stories WHERE id = $1`, [storyId]);
    if (!story) throw notFound('id', 'story');
    const rows = await session.query<{ id: string; caption: string; content_hash: string | null; storage_key: string | null; width: number | null; height: number | null }>(
      `SELECT f.id, f.caption, i.content_hash, i.storage_key, i.width, i.height
       FROM frames f
       LEFT JOIN renders r ON r.frame_id = f.id AND r.is_current
       LEFT JOIN images i ON i.id = r.image_id
       WHERE f.story_id = $1 ORDER BY f.position`, [storyId]);
    if (rows.length === 0) throw badInput('id', 'the story has no frames to put on a page');
    const frames: FrameContent[] = rows.map((r) => ({
      id: r.id, caption: r.caption,
      image: r.content_hash ? { contentHash: r.content_hash, storageKey: r.storage_key!, width: r.width!, height: r.height! } : null,
    }));
    const key = createHash('sha256').update(JSON.stringify({
      renderer: RENDERER, opts, title: story.title, seed: story.seed, frames: frames.map((f) => [f.id, f.caption, f.image?.contentHash ?? null]),
    })).digest('hex');
    return { story, frames, key };
  }

  private kept(session: TenantSession, storyId: string, key: string, formats: StoryPageFormat[]): Promise<StoryPage[]> {
    return session.rows(StoryPage, `SELECT * FROM story_pages WHERE story_id = $1 AND cache_key = $2 AND format = ANY($3::text[]) ORDER BY page_index, format`,
      [storyId, key, formats]);
  }

  private async draw(session: TenantSession, story: Story, frames: FrameContent[], key: string, opts: PageOptions): Promise<StoryPage[]> {
    const files = await session.withoutConnection(() => this.drawFiles(story, frames, opts));
    const rows = await this.save(session, story, key, files);
    // Other option sets of this story beyond the most recent few go (their files with them).
    await session.query(
      `DELETE FROM story_pages WHERE story_id = $1 AND cache_key NOT IN (
         SELECT cache_key FROM story_pages WHERE story_id = $1 GROUP BY cache_key ORDER BY max(created_at) DESC, cache_key LIMIT $2)`,
      [story.id, KEPT_OPTION_SETS]);
    return rows;
  }

  /** Every page as PNG and WebP: pictures read from the store and drawn, no database. */
  private async drawFiles(story: Story, frames: FrameContent[], opts: PageOptions): Promise<PageFile[]> {
    const drawn = frames.find((f) => f.image);
    const aspect = drawn ? drawn.image!.width / drawn.image!.height : story.width / story.height;
    const plan = planPages({ ...opts, frames: frames.length, pictureAspect: aspect, captions: frames.some((f) => f.caption.trim() !== ''), seed: story.seed });
    const pictures = new Map<number, Buffer | null>();
    for (const [i, f] of frames.entries()) pictures.set(i, f.image ? (await this.store.get(f.image.storageKey)) ?? null : null);
    const files: PageFile[] = [];
    for (const [index, page] of plan.pages.entries()) {
      const out = await drawPage(page, (i) => ({ picture: pictures.get(i) ?? null, caption: frames[i]!.caption }), opts.dpi, plan.border);
      const panels: PagePanel[] = page.panels.map((p) => ({ frameId: frames[p.frame]!.id, ...p.panel, captionShrunk: out.shrunkCaptions.includes(p.frame) }));
      files.push({ format: 'png', pageIndex: index, bytes: out.png, width: out.width, height: out.height, panels });
      files.push({ format: 'webp', pageIndex: index, bytes: out.webp, width: out.width, height: out.height, panels });
    }
    return files;
  }

  /**
   * Stores the files, then their rows. Each file has a key of its own (its row's id), so a row
   * and its file go together; when another request stored the same entry first, its rows win
   * and this request's files are queued for removal.
   */
  private async save(session: TenantSession, story: Story, key: string, files: PageFile[]): Promise<StoryPage[]> {
    const stored = files.map((f) => {
      const id = randomUUID();
      return { ...f, id, storageKey: `${session.projectId}/pages/${id}.${f.format}`, contentHash: createHash('sha256').update(f.bytes).digest('hex') };
    });
    // Files before rows (a row never names a missing file); a file left without its row is queued below.
    await session.withoutConnection(async () => {
      for (const f of stored) await this.store.put(f.storageKey, f.bytes, MIME[f.format]);
    });
    const rows: StoryPage[] = [];
    for (const { id, storageKey, contentHash, ...f } of stored) {
      const [row] = await session.rows(StoryPage,
        `INSERT INTO story_pages (id, project_id, story_id, cache_key, format, page_index, mime, width, height, byte_size, content_hash, storage_key, panels)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
         ON CONFLICT (story_id, cache_key, format, page_index) DO NOTHING RETURNING *`,
        [id, session.projectId, story.id, key, f.format, f.pageIndex, MIME[f.format], f.width, f.height, f.bytes.length, contentHash, storageKey, JSON.stringify(f.panels)]);
      if (row) {
        rows.push(row);
        continue;
      }
      await session.query(`INSERT INTO image_file_deletions (project_id, content_hash, storage_key) VALUES ($1, $2, $3)`, [session.projectId, contentHash, storageKey]);
      rows.push((await this.kept(session, story.id, key, [f.format])).find((r) => r.pageIndex === f.pageIndex)!);
    }
    return rows;
  }
}

function checkOptions(o: PageOptions): PageOptions {
  if (!(o.size in PAGE_SIZES)) throw badInput('size', `size must be one of ${Object.keys(PAGE_SIZES).join(', ')}`);
  return { layout: o.layout, size: o.size, dpi: intInRange('dpi', o.dpi, DPI_RANGE.min, DPI_RANGE.max) };
}
