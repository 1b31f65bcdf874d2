import { createHash, randomUUID } from 'node:crypto';
import type { Client } from 'pg';
import type { TestApi } from './api-harness';

export const CHARACTER_FIELDS = `id name description negativePrompt seed anchorVersion consistency { identityFrames samplingRate }`;
export const FRAME_FIELDS = `id position prompt caption noCharacter seed characters { name }`;

export async function createCharacter(api: TestApi, key: string, name: string, extra: Record<string, unknown> = {}) {
  const r = await api.gql(`mutation($input: CreateCharacterInput!) { createCharacter(input: $input) { ${CHARACTER_FIELDS} } }`,
    { input: { name, description: `${name}, a person with a hat`, ...extra } }, key);
  if (r.errors) throw new Error(JSON.stringify(r.errors));
  return r.data.createCharacter as { id: string; name: string; anchorVersion: number };
}

export async function createStory(api: TestApi, key: string, input: Record<string, unknown>) {
  const r = await api.gql(`mutation($input: CreateStoryInput!) { createStory(input: $input) {
      id title frameCount characters { name } frames(first: 100) { edges { node { ${FRAME_FIELDS} } } } } }`,
    { input }, key);
  if (r.errors) throw new Error(JSON.stringify(r.errors));
  return r.data.createStory as { id: string; frameCount: number; frames: { edges: { node: { id: string; position: number; prompt: string } }[] } };
}

export function decodeId(globalId: string): string {
  return Buffer.from(globalId, 'base64').toString().split(':')[1];
}

/** Renders come from the job system later; tests write them directly (as the table owner). */
export async function insertCurrentRender(owner: Client, frameGlobalId: string): Promise<{ renderId: string; imageId: string }> {
  const frameId = decodeId(frameGlobalId);
  const { rows: [frame] } = await owner.query(`SELECT project_id FROM frames WHERE id = $1`, [frameId]);
  const imageId = randomUUID();
  const hash = createHash('sha256').update(imageId).digest('hex');
  await owner.query(`INSERT INTO images (id, project_id, content_hash, mime, width, height, byte_size, storage_key)
    VALUES ($1, $2, $3, 'image/png', 64, 64, 1234, $4)`, [imageId, frame.project_id, hash, `images/${hash}.png`]);
  const { rows: [render] } = await owner.query(`INSERT INTO renders (project_id, frame_id, image_id, prompt, seed, steps, guidance, scheduler, model, width, height, is_current)
    VALUES ($1, $2, $3, 'p', 1, 10, 5, 'ddim', 'story-world', 64, 64, true) RETURNING id`, [frame.project_id, frameId, imageId]);
  return { renderId: render.id, imageId };
}

/** Row counts of every table: a failed mutation must leave these unchanged. */
export async function tableCounts(owner: Client): Promise<Record<string, number>> {
  const tables = ['projects', 'api_keys', 'characters', 'stories', 'story_characters', 'frames', 'renders', 'images', 'generation_jobs', 'character_anchors',
    'reference_image_sets', 'reference_images'];
  const counts: Record<string, number> = {};
  for (const t of tables) counts[t] = (await owner.query(`SELECT count(*)::int AS n FROM ${t}`)).rows[0].n;
  return counts;
}

/** A snapshot of one project's rows, to prove an operation changed nothing of it. */
export async function contentSnapshot(owner: Client, projectId: string): Promise<string> {
  const parts: string[] = [];
  for (const t of ['projects', 'api_keys', 'characters', 'stories', 'story_characters', 'frames', 'renders', 'images', 'generation_jobs', 'character_anchors',
    'webhooks', 'webhook_messages', 'webhook_deliveries', 'reference_image_sets', 'reference_images']) {
    const column = t === 'projects' ? 'id' : 'project_id';
    const { rows } = await owner.query(`SELECT to_jsonb(x)::text AS j FROM ${t} x WHERE ${column} = $1 ORDER BY 1`, [projectId]);
    parts.push(t + ':' + rows.map((r) => r.j).join('\n'));
  }
  return parts.join('\n---\n');
}
