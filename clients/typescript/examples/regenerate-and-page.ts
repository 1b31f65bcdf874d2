/**
 * Second thoughts on a story: draws one frame again (a new seed), lists that frame's renders (its
 * history: the old ones stay), then saves the story's first comic page as a PNG.
 *
 *   STORYFORGE_URL=http://localhost:4000/graphql STORYFORGE_API_KEY=sfk_... \
 *     node dist/examples/regenerate-and-page.js <story-id> <out-dir> [--frame N]
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StoryForge, StoryForgeError } from '@storyforge/client';

async function main(): Promise<void> {
  const { storyId, outDir, position } = parseArgs(process.argv.slice(2));
  const client = new StoryForge({ url: env('STORYFORGE_URL'), apiKey: env('STORYFORGE_API_KEY') });
  try {
    const frame = (await client.storyFrames(storyId)).find((f) => f.position === position);
    if (!frame) throw new Error(`the story has no frame ${position}`);

    const started = await client.regenerateFrame(frame.id);
    console.log(`regenerating frame ${position} (job ${started.id})`);
    const job = await client.waitForJob(started.id);
    if (job.status !== 'SUCCEEDED') throw new Error(`job ${job.status}${job.error ? `: ${job.error.code} ${job.error.message}` : ''}`);

    const history = await client.frameRenders(frame.id, { first: 100 });
    console.log(`frame ${position} has ${history.nodes.length} renders, oldest first:`);
    for (const render of history.nodes) {
      console.log(`  render ${render.id} seed ${render.seed}${render.isCurrent ? ' (current)' : ''}`);
    }

    const [page] = await client.comicPages(storyId, { layout: 'FOUR_PANEL', size: 'A4', dpi: 150 });
    if (!page) throw new Error('the story has no pages');
    await mkdir(outDir, { recursive: true });
    const path = join(outDir, `page-${page.index + 1}.png`);
    await writeFile(path, await client.download(page.url));
    console.log(`wrote ${path} (${page.width}x${page.height}, ${page.panels.length} panels)`);
  } finally {
    await client.close();
  }
}

function parseArgs(args: string[]): { storyId: string; outDir: string; position: number } {
  const [storyId, outDir, flag, value, ...rest] = args;
  const position = flag === '--frame' ? Number(value) : 1;
  if (!storyId || !outDir || rest.length > 0 || (flag !== undefined && flag !== '--frame') || !Number.isInteger(position) || position < 1) {
    throw new Error('usage: regenerate-and-page <story-id> <out-dir> [--frame N]');
  }
  return { storyId, outDir, position };
}

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`set ${name} (npm run demo prints the GraphQL URL and an admin key)`);
  return value;
}

main().catch((error: unknown) => {
  const message = error instanceof StoryForgeError ? `${error.code}: ${error.message}` : error instanceof Error ? error.message : String(error);
  console.error(`regenerate-and-page: ${message.split('\n')[0]}`);
  process.exitCode = 1;
});
