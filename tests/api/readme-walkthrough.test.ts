/**
 * README's "From script to comic page", run as written: every GraphQL block of the section, in
 * order, against a real server with a worker and the embedded model, so the walkthrough cannot
 * drift from the API. The upload is the one step done with HTTP (as the README's curl line).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import sharp from 'sharp';
import { GenerationApi, startGenerationApi } from '../support/generation-harness';
import { Subscription, connectWs } from '../support/ws-client';

const README = readFileSync(resolve(__dirname, '../../README.md'), 'utf8');

function walkthrough() {
  const start = README.indexOf('## From script to comic page');
  const section = README.slice(start, README.indexOf('\n## ', start + 5));
  const blocks = [...section.matchAll(/```graphql\n([\s\S]*?)```/g)].map((m) => m[1]!.replace(/^ {3}/gm, ''));
  const byName = new Map(blocks.map((b) => [/(?:query|mutation|subscription)\s+(\w+)/.exec(b)![1]!, b]));
  const variables = JSON.parse(/`(\{ "input"[^`]*\})`/.exec(section)![1]!);
  return { names: [...byName.keys()], doc: (name: string) => byName.get(name)!, variables };
}

describe("README's walkthrough", () => {
  let api: GenerationApi;
  let key: string;

  beforeAll(async () => {
    api = await startGenerationApi({ workers: 1 });
    key = (await api.createProject('Readme')).secret;
  });
  afterAll(() => api?.close());

  it('goes from a script to a comic page and a PDF, as written', async () => {
    const w = walkthrough();
    expect(w.names).toEqual(['CreateMira', 'AnchorMira', 'WriteStory', 'Draw', 'Follow', 'Comic']);
    const run = async (name: string, variables: Record<string, unknown>) => {
      const r = await api.gql(w.doc(name), variables, key);
      expect({ name, errors: r.errors }).toEqual({ name, errors: undefined });
      return r.data;
    };
    const mira = (await run('CreateMira', w.variables)).createCharacter;
    const picture = await sharp(resolve(__dirname, '../../bench/consistency/reference-set.png'))
      .extract({ left: 0, top: 0, width: 32, height: 32 }).resize(128, 128, { kernel: 'nearest' }).png().toBuffer();
    const upload = await fetch(api.url.replace(/\/graphql$/, '/uploads'), { method: 'POST', body: picture, headers: { authorization: `Bearer ${key}` } });
    expect(upload.status).toBe(201);
    const { id: uploadId } = (await upload.json()) as { id: string };
    const anchored = (await run('AnchorMira', { characterId: mira.id, uploadId })).addReferenceImages;
    expect(anchored.referenceImages).toHaveLength(1);
    const story = (await run('WriteStory', { characterId: mira.id })).createStory;
    expect(story.frameCount).toBe(4);
    const ws = connectWs(api.url, { apiKey: key });
    try {
      const job = (await run('Draw', { storyId: story.id })).generateStory.job;
      const follow = new Subscription(ws.client, w.doc('Follow'), { jobId: job.id });
      const last = await follow.until((m) => ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(m.data?.jobUpdated?.status));
      expect(last.data.jobUpdated).toMatchObject({ status: 'SUCCEEDED', progress: { framesDone: 4, framesTotal: 4 } });
      await follow.done;
    } finally {
      await ws.dispose();
    }
    const comic = (await run('Comic', { storyId: story.id })).node;
    expect(comic.pages.map((p: any) => p.panels.map((q: any) => q.frame.caption))).toEqual([
      ['The tide is out.', 'Errands first.', 'Then the fun part.', 'See you tomorrow!']]);
    expect(comic.comic.pageCount).toBe(1);
    for (const url of [comic.pages[0].url, comic.pages[0].webp, comic.comic.url]) {
      const res = await fetch(url);
      expect(res.status).toBe(200);
    }
  });
});
