/**
 * The demo's generated story, made the way a client would: over the GraphQL API with the demo
 * project's admin key. Creates (or reuses) a character and a four-frame story, generates it,
 * follows the job's progress, then writes the frames' PNGs (fetched from their
 * signed URLs) and a contact sheet into `outDir`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { contactSheet, decodeImage } from '../images';

export const DEMO_CHARACTER = { name: 'Robin', description: 'a person with blonde hair, a red shirt and black trousers', seed: 21 };
export const DEMO_STORY_TITLE = "Robin's day";
export const DEMO_STORY_SCRIPT = [
  'Robin standing in the city #Robin sets out early.',
  'Robin walking in the forest #The path leads through the trees.',
  'Robin waving on the beach #A friend waits by the sea.',
  'Robin sitting in the snow #A rest before the way home.',
].join('\n');

export interface DemoStoryResult {
  framePaths: string[];
  contactSheetPath: string;
  jobStatus: string;
}

type Gql = <T = any>(query: string, variables?: Record<string, unknown>) => Promise<T>;

function client(url: string, key: string): Gql {
  return async (query, variables = {}) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { data?: any; errors?: { message: string }[] };
    if (body.errors?.length) throw new Error(body.errors.map((e) => e.message).join('; '));
    return body.data;
  };
}

/** `onProgress`: the job's whole-story fraction (never lower than before) and its label, about twice a second. */
export async function generateDemoStory(apiUrl: string, key: string, outDir: string,
  onProgress: (fraction: number, label: string) => void): Promise<DemoStoryResult> {
  const gql = client(apiUrl, key);
  const found = await gql(`query($s: String!) { characters(first: 1, search: $s) { edges { node { id name } } } }`, { s: DEMO_CHARACTER.name });
  const character = found.characters.edges.find((e: any) => e.node.name === DEMO_CHARACTER.name)?.node
    ?? (await gql(`mutation($input: CreateCharacterInput!) { createCharacter(input: $input) { id } }`, {
      input: { ...DEMO_CHARACTER, consistency: { identityFrames: 2 } },
    })).createCharacter;
  const stories = await gql(`{ stories(first: 100) { edges { node { id title } } } }`);
  const story = stories.stories.edges.find((e: any) => e.node.title === DEMO_STORY_TITLE)?.node
    ?? (await gql(`mutation($input: CreateStoryInput!) { createStory(input: $input) { id } }`, {
      input: { title: DEMO_STORY_TITLE, characterIds: [character.id], script: DEMO_STORY_SCRIPT, seed: 7 },
    })).createStory;

  const started = await gql(`mutation($id: ID!) { generateStory(storyId: $id) { job { id } } }`, { id: story.id });
  const jobId = started.generateStory.job.id;
  let job: any;
  for (;;) {
    job = (await gql(`query($id: ID!) { node(id: $id) { ... on GenerationJob { status progress { fraction label } error { code message } } } }`,
      { id: jobId })).node;
    onProgress(job.progress.fraction, job.progress.label);
    if (['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(job.status)) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  if (job.status !== 'SUCCEEDED') throw new Error(`the demo story's job ended ${job.status}${job.error ? `: ${job.error.code} ${job.error.message}` : ''}`);

  const frames = (await gql(`query($id: ID!) { node(id: $id) { ... on Story { frames(first: 100) { edges { node {
      position caption currentRender { url(variant: PNG) } } } } } } }`, { id: story.id })).node.frames.edges.map((e: any) => e.node);
  await mkdir(outDir, { recursive: true });
  const framePaths: string[] = [];
  const sheet: { image: Awaited<ReturnType<typeof decodeImage>>; caption: string }[] = [];
  for (const frame of frames) {
    const response = await fetch(frame.currentRender.url);
    if (!response.ok) throw new Error(`fetching frame ${frame.position}'s picture answered ${response.status}`);
    const bytes = Buffer.from(await response.arrayBuffer());
    const path = join(outDir, `robins-day-frame-${frame.position}.png`);
    await writeFile(path, bytes);
    framePaths.push(path);
    sheet.push({ image: await decodeImage(bytes), caption: frame.caption });
  }
  const contactSheetPath = join(outDir, 'robins-day-contact-sheet.png');
  await writeFile(contactSheetPath, (await contactSheet(sheet)).bytes);
  return { framePaths, contactSheetPath, jobStatus: job.status };
}
