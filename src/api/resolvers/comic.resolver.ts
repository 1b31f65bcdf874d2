import type { Story } from '../../db/entities/story.entity';
import type { PagePanel, StoryPage } from '../../db/entities/story-page.entity';
import type { PageOptions } from '../../domain/pages/comic-pages';
import type { RequestContext } from '../context';
import { pageUrl } from '../image-urls';

type PageArgs = { layout: PageOptions['layout']; size: PageOptions['size']; dpi: number };
interface ComicPageView { png: StoryPage; webp: StoryPage; dpi: number }
type Format = 'PNG' | 'WEBP';

export const comicResolvers = {
  Story: {
    pages: async (story: Story, args: PageArgs, ctx: RequestContext): Promise<ComicPageView[]> => {
      ctx.require('viewer');
      const pages = await ctx.services.comics.pages(ctx.session, story.id, args);
      return pages.map((p) => ({ ...p, dpi: args.dpi }));
    },
    comic: async (story: Story, args: PageArgs & { format: 'PDF' | 'CBZ' }, ctx: RequestContext) => {
      ctx.require('viewer');
      const format = args.format === 'PDF' ? 'pdf' : 'cbz';
      const { document, pageCount } = await ctx.services.comics.document(ctx.session, story.id, args, format);
      return { format: args.format, url: await pageUrl(ctx, document), byteSize: document.byteSize, pageCount };
    },
  },

  ComicPage: {
    index: (p: ComicPageView) => p.png.pageIndex,
    width: (p: ComicPageView) => p.png.width,
    height: (p: ComicPageView) => p.png.height,
    url: (p: ComicPageView, args: { format: Format }, ctx: RequestContext) => {
      return pageUrl(ctx, args.format === 'WEBP' ? p.webp : p.png);
    },
    byteSize: (p: ComicPageView, args: { format: Format }) => (args.format === 'WEBP' ? p.webp : p.png).byteSize,
    panels: (p: ComicPageView) => p.png.panels,
  },

  ComicPanel: {
    frame: (p: PagePanel, _: unknown, ctx: RequestContext) => ctx.loaders.frame.load(p.frameId),
  },
};
