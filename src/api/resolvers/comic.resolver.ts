import type { StoryPage } from '../../db/entities/story-page.entity';
import type { Resolvers } from '../generated/resolver-types';
import { pageUrl } from '../image-urls';

/** ComicPage's parent (its mapper in scripts/codegen/resolvers.mjs): the stored PNG and WebP, and the resolution they were drawn at. */
export interface ComicPageView { png: StoryPage; webp: StoryPage; dpi: number }

export const comicResolvers: Resolvers = {
  Story: {
    pages: async (story, args, ctx) => {
      ctx.require('viewer');
      const pages = await ctx.services.comics.pages(ctx.session, story.id, args);
      return pages.map((p) => ({ ...p, dpi: args.dpi }));
    },
    comic: async (story, args, ctx) => {
      ctx.require('viewer');
      const format = args.format === 'PDF' ? 'pdf' : 'cbz';
      const { document, pageCount } = await ctx.services.comics.document(ctx.session, story.id, args, format);
      return { format: args.format, url: await pageUrl(ctx, document), byteSize: document.byteSize, pageCount };
    },
  },

  ComicPage: {
    index: (p) => p.png.pageIndex,
    // Sizes are null only on the PDF and CBZ rows; a page's PNG always has its own.
    width: (p) => p.png.width!,
    height: (p) => p.png.height!,
    url: (p, args, ctx) => pageUrl(ctx, args.format === 'WEBP' ? p.webp : p.png),
    byteSize: (p, args) => (args.format === 'WEBP' ? p.webp : p.png).byteSize,
    panels: (p) => p.png.panels,
  },

  ComicPanel: {
    frame: (p, _, ctx) => ctx.loaders.frame.load(p.frameId).then((f) => f ?? null),
  },
};
