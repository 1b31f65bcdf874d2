/**
 * A story from a script, drawn and saved: finds or creates the character Mira, writes a
 * three-frame story for her, starts generateStory, prints each progress label as the job moves
 * (graphql-ws), then saves every frame's PNG into the folder given.
 *
 *   STORYFORGE_URL=http://localhost:4000/graphql STORYFORGE_API_KEY=sfk_... \
 *     node dist/examples/generate-story.js out/ [--steps 12]
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StoryForge, StoryForgeError } from '@storyforge/client';

const MIRA = { name: 'Mira', description: 'a girl with red hair, a green shirt and blue trousers', seed: 7 };
const SCRIPT = `[Mira] standing on the beach # The tide is out.
[Mira] walking in the forest # A shortcut home.
[NC] a lighthouse at night # The light comes on.`;

async function main(): Promise<void> {
  const { outDir, steps } = parseArgs(process.argv.slice(2));
  const client = new StoryForge({ url: env('STORYFORGE_URL'), apiKey: env('STORYFORGE_API_KEY') });
  try {
    const found = await client.characters({ search: MIRA.name });
    const mira = found.nodes.find((c) => c.name === MIRA.name) ?? (await client.createCharacter(MIRA));
    const story = await client.createStoryFromScript({
      title: `Mira at the sea ${new Date().toISOString()}`, characterIds: [mira.id], script: SCRIPT, steps, seed: 3,
    });
    console.log(`story ${story.id}: ${story.frameCount} frames, ${story.width}x${story.height}, ${story.steps} steps`);

    const job = await client.generateStory(story.id);
    let label = '';
    let status = job.status;
    for await (const update of client.followJob(job.id)) {
      // Updates come per change; the label alone is what a person wants to read.
      if (update.progress.label !== label) console.log(`${Math.floor(update.progress.fraction * 100)}% ${update.progress.label}`);
      label = update.progress.label;
      status = update.status;
      if (update.error && status !== 'SUCCEEDED') throw new Error(`job ${status}: ${update.error.code} ${update.error.message}`);
    }
    if (status !== 'SUCCEEDED') throw new Error(`job ${status}`);

    await mkdir(outDir, { recursive: true });
    for (const frame of await client.storyFrames(story.id)) {
      if (!frame.currentRender) throw new Error(`frame ${frame.position} has no render`);
      const path = join(outDir, `frame-${String(frame.position).padStart(2, '0')}.png`);
      await writeFile(path, await client.download(frame.currentRender.url));
      console.log(`wrote ${path}`);
    }
  } finally {
    await client.close();
  }
}

function parseArgs(args: string[]): { outDir: string; steps: number | undefined } {
  const [outDir, flag, value, ...rest] = args;
  const steps = flag === '--steps' ? Number(value) : undefined;
  if (!outDir || outDir.startsWith('-') || rest.length > 0 || (flag !== undefined && (flag !== '--steps' || !Number.isInteger(steps)))) {
    throw new Error('usage: generate-story <out-dir> [--steps N]');
  }
  return { outDir, steps };
}

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`set ${name} (npm run demo prints the GraphQL URL and an admin key)`);
  return value;
}

main().catch((error: unknown) => {
  const message = error instanceof StoryForgeError ? `${error.code}: ${error.message}` : error instanceof Error ? error.message : String(error);
  console.error(`generate-story: ${message.split('\n')[0]}`);
  process.exitCode = 1;
});
