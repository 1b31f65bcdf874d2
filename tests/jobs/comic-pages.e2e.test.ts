/**
 * Comic pages through the API on real renders (story-world, one worker): a four-panel page
 * whose captions (long, non-Latin) stay inside their bands on the served pixels, PNG and WebP
 * URLs, the pages kept and served again until a frame changes, then drawn anew (the old URL
 * gone, the same content giving the same bytes), the classic layout, and the whole story as a
 * PDF and a CBZ with one page per page.
 */
import { unzipSync } from 'fflate';
import { PDFDocument } from 'pdf-lib';
import sharp from 'sharp';
import { GenerationApi, JOB_FIELDS, startGenerationApi } from '../support/generation-harness';
import { createCharacter, createStory } from '../support/fixtures';

const LONG = 'Mira climbs the lighthouse stairs at dawn, counting every step out loud while the gulls circle and the fishermen shout from their boats below, '
  + 'and the keeper, who has seen it all before, waves a lantern nobody asked for, then another, and then a third one for luck, '
  + 'while the tide comes in over the rocks and the whole town, it seems, has come down to the harbour to watch her climb.';
const SCRIPT = [
  '[Mira] standing on the beach # Morning.',
  `[Mira] walking in the city # ${LONG}`,
  '[Mira] jumping in the snow # Мира прыгает — Η Μίρα πηδά — ميرا تقفز',
  '[Mira] sitting at night',
  '[Mira] waving in the forest # #5: the end.',
].join('\n');

const PAGE = `index width height dpi url png: url(format: PNG) webp: url(format: WEBP) byteSize panels { frame { id position caption } x y width height captionShrunk }`;

describe('comic pages through the API', () => {
  let api: GenerationApi;
  let key: string;
  let storyId: string;

  beforeAll(async () => {
    api = await startGenerationApi({ workers: 1 });
    key = (await api.createProject('Comics')).secret;
    const mira = await createCharacter(api, key, 'Mira', { description: 'a girl with red hair', seed: 5 });
    const story = await createStory(api, key, { title: 'Mira: a day', characterIds: [mira.id], script: SCRIPT, steps: 8 });
    storyId = story.id;
    const started = await api.gql(`mutation($id: ID!) { generateStory(storyId: $id) { job { ${JOB_FIELDS} } } }`, { id: storyId }, key);
    expect((await api.waitForJob(started.data.generateStory.job.id, key)).status).toBe('SUCCEEDED');
  });
  afterAll(() => api?.close());

  const pages = async (args = '') => {
    const r = await api.gql(`query($id: ID!) { node(id: $id) { ... on Story { pages${args ? `(${args})` : ''} { ${PAGE} } } } }`, { id: storyId }, key);
    expect(r.errors).toBeUndefined();
    return r.data.node.pages as any[];
  };
  const fetchBytes = async (url: string) => {
    const res = await fetch(url);
    return { status: res.status, type: res.headers.get('content-type'), disposition: res.headers.get('content-disposition'), bytes: Buffer.from(await res.arrayBuffer()) };
  };

  it('draws four-panel pages from the current renders, captions inside their bands on the served pixels', async () => {
    const four = await pages();
    expect(four.map((p) => [p.index, p.width, p.height, p.dpi, p.panels.length])).toEqual([[0, 1241, 1754, 150, 4], [1, 1241, 1754, 150, 1]]);
    expect(four.flatMap((p) => p.panels.map((q: any) => q.frame.position))).toEqual([1, 2, 3, 4, 5]);
    // The caption is what follows the first #: '#5: the end.' keeps its own #.
    expect(four[1].panels[0].frame.caption).toBe('#5: the end.');
    const png = await fetchBytes(four[0].png);
    expect([png.status, png.type]).toEqual([200, 'image/png']);
    const { data, info } = await sharp(png.bytes).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([1241, 1754]);
    const dark = (x: number, y: number) => data[(y * info.width + x) * 3]! < 250 || data[(y * info.width + x) * 3 + 1]! < 250;
    // Outside the panels the page is paper: no caption spilled over a border.
    let spilled = 0;
    for (let y = 0; y < info.height; y += 2) {
      for (let x = 0; x < info.width; x += 2) {
        if (four[0].panels.some((p: any) => x >= p.x && x < p.x + p.width && y >= p.y && y < p.y + p.height)) continue;
        if (dark(x, y)) spilled++;
      }
    }
    expect(spilled).toBe(0);
    // The caption bands (the panel below its picture, which is 1/1.28 of it) hold ink when the
    // frame has a caption, and none when it has not: the captions were set, the long one smaller.
    for (const p of four[0].panels) {
      const top = p.y + Math.round(p.height / 1.28) + 4;
      let inked = 0;
      for (let y = top; y < p.y + p.height - 4; y++) for (let x = p.x + 4; x < p.x + p.width - 4; x++) if (data[(y * info.width + x) * 3]! < 128) inked++;
      expect({ frame: p.frame.position, inked: inked > 50 }).toEqual({ frame: p.frame.position, inked: p.frame.caption !== '' });
    }
    expect(four[0].panels.map((p: any) => p.captionShrunk)).toEqual([false, true, false, false]);
    const webp = await fetchBytes(four[0].webp);
    expect([webp.status, webp.type, (await sharp(webp.bytes).metadata()).width]).toEqual([200, 'image/webp', 1241]);
    const tampered = await fetchBytes(four[0].png.replace(/sig=[0-9a-f]{4}/, 'sig=0000'));
    expect(tampered.status).toBe(403);
  });

  it('keeps the pages until a frame changes, then draws them anew (the same content, the same bytes)', async () => {
    const first = await pages();
    const again = await pages();
    expect(again.map((p) => p.png.split('?')[0])).toEqual(first.map((p) => p.png.split('?')[0]));
    const before = (await fetchBytes(first[0].png)).bytes;
    const frameId = first[0].panels[0].frame.id;
    const edit = (caption: string) => api.gql(`mutation($id: ID!, $c: String!) { updateFrame(id: $id, input: { caption: $c }) { id } }`, { id: frameId, c: caption }, key);
    expect((await edit('Morning, again.')).errors).toBeUndefined();
    expect((await fetchBytes(first[0].png)).status).toBe(404);
    const changed = await pages();
    expect(changed[0].png.split('?')[0]).not.toBe(first[0].png.split('?')[0]);
    expect((await fetchBytes(changed[0].png)).bytes.equals(before)).toBe(false);
    const { rows } = await api.db.owner.query(`SELECT count(*)::int AS n FROM image_file_deletions WHERE storage_key LIKE '%/pages/%'`);
    expect(rows[0].n).toBeGreaterThanOrEqual(2);
    await edit('Morning.');
    const back = await pages();
    expect((await fetchBytes(back[0].png)).bytes.equals(before)).toBe(true);
  });

  it('lays out the classic comic from the same frames, at another size and dpi', async () => {
    const classic = await pages('layout: CLASSIC_COMIC, size: COMIC, dpi: 100');
    expect(classic[0]).toMatchObject({ width: 663, height: 1025, dpi: 100 });
    expect(classic.flatMap((p) => p.panels.map((q: any) => q.frame.position))).toEqual([1, 2, 3, 4, 5]);
    const bad = await api.gql(`query($id: ID!) { node(id: $id) { ... on Story { pages(dpi: 2000) { index } } } }`, { id: storyId }, key);
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'dpi' });
  });

  it('downloads the whole story as a PDF and a CBZ with one page per page', async () => {
    const four = await pages();
    const files = await api.gql(`query($id: ID!) { node(id: $id) { ... on Story {
      pdf: comic(format: PDF) { format url byteSize pageCount } cbz: comic(format: CBZ) { format url byteSize pageCount } } } }`, { id: storyId }, key);
    expect(files.errors).toBeUndefined();
    const { pdf, cbz } = files.data.node;
    expect([pdf.pageCount, cbz.pageCount]).toEqual([four.length, four.length]);
    const pdfFile = await fetchBytes(pdf.url);
    expect([pdfFile.status, pdfFile.type, pdfFile.disposition, pdfFile.bytes.length])
      .toEqual([200, 'application/pdf', 'attachment; filename="Mira a day.pdf"', pdf.byteSize]);
    const doc = await PDFDocument.load(pdfFile.bytes);
    expect(doc.getPageCount()).toBe(four.length);
    expect(doc.getPage(0).getSize().width).toBeCloseTo((1241 / 150) * 72, 3);
    const cbzFile = await fetchBytes(cbz.url);
    expect(cbzFile.type).toBe('application/vnd.comicbook+zip');
    const entries = unzipSync(new Uint8Array(cbzFile.bytes));
    expect(Object.keys(entries).sort()).toEqual(['001.png', '002.png', 'ComicInfo.xml']);
    expect(Buffer.from(entries['001.png']!).equals((await fetchBytes(four[0].png)).bytes)).toBe(true);
  });

  it("keeps another project's key away from the story's pages", async () => {
    const other = (await api.createProject('Other')).secret;
    const r = await api.gql(`query($id: ID!) { node(id: $id) { ... on Story { pages { index } } } }`, { id: storyId }, other);
    expect(r.data.node).toBeNull();
  });
});
