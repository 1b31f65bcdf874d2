/**
 * A character anchored on uploaded reference images, end to end on the embedded story-world
 * pack: two pictures of one identity from the consistency bench's reference set (uploaded
 * larger, as a studio would: one as a PNG, one inside a wider canvas with a crop box), a story
 * whose prompts never name the identity, and renders that take the references' attributes. The
 * judge reads each render against the references (consistencyScore: the share of the five
 * attributes that match); the embedded-model issue's reference-bank target is 0.8 of frames with
 * all five, asserted here 0.1 below it as bench/consistency's test does.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import sharp from 'sharp';
import { GenerationApi, JOB_FIELDS, startGenerationApi } from '../support/generation-harness';
import { createCharacter, decodeId } from '../support/fixtures';

const REFERENCE_SET = resolve(__dirname, '../../bench/consistency/reference-set.png');
const IDENTITY = 5;
const FRAMES = ['standing in the forest', 'walking on the beach', 'jumping in the city', 'sitting at night',
  'waving in the snow', 'walking in the desert', 'standing on the beach', 'jumping in the forest'];

/** Picture j of the identity, 32x32, scaled up 4x as an upload would be. */
const reference = (j: number) => sharp(REFERENCE_SET).extract({ left: j * 32, top: IDENTITY * 32, width: 32, height: 32 })
  .resize(128, 128, { kernel: 'nearest' });

describe('a character anchored on reference images', () => {
  let api: GenerationApi;
  let key: string;

  beforeAll(async () => {
    api = await startGenerationApi({ workers: 1 });
    key = (await api.createProject('Anchored')).secret;
  });
  afterAll(() => api?.close());

  const upload = async (body: Buffer) => {
    const res = await fetch(api.url.replace(/\/graphql$/, '/uploads'), { method: 'POST', body, headers: { authorization: `Bearer ${key}` } });
    expect(res.status).toBe(201);
    return ((await res.json()) as { id: string }).id;
  };

  it('draws the references\' attributes in frames that never name them', async () => {
    const first = await upload(await reference(0).png().toBuffer());
    // The second picture sits at (100, 40) in a 360x200 canvas: only the crop box finds it.
    const canvas = await sharp({ create: { width: 360, height: 200, channels: 3, background: '#ffffff' } })
      .composite([{ input: await reference(1).png().toBuffer(), left: 100, top: 40 }]).jpeg({ quality: 95 }).toBuffer();
    const second = await upload(canvas);
    const kit = await createCharacter(api, key, 'Kit', { description: 'a person', seed: 11 });
    const anchored = await api.gql(`mutation($c: ID!, $images: [ReferenceImageInput!]!) { addReferenceImages(characterId: $c, images: $images) { anchorVersion } }`,
      { c: kit.id, images: [{ uploadId: first }, { uploadId: second, crop: { x: 100, y: 40, width: 128, height: 128 } }] }, key);
    expect(anchored.errors).toBeUndefined();

    const story = await api.gql(`mutation($input: CreateStoryInput!) { createStory(input: $input) { id } }`,
      { input: { title: 'Kit', characterIds: [kit.id], script: FRAMES.map((f) => `Kit ${f}`).join('\n'), seed: 300 } }, key);
    expect(story.errors).toBeUndefined();
    const started = await api.gql(`mutation($id: ID!) { generateStory(storyId: $id) { job { ${JOB_FIELDS} } } }`, { id: story.data.createStory.id }, key);
    expect(started.errors).toBeUndefined();
    const job = await api.waitForJob(started.data.generateStory.job.id, key);
    expect(job).toMatchObject({ status: 'SUCCEEDED', error: null });

    const frames = await api.gql(`query($id: ID!) { node(id: $id) { ... on Story { frames(first: 20) { edges { node {
      currentRender { consistencyScore prompt anchorVersions } } } } } } }`, { id: story.data.createStory.id }, key);
    expect(frames.errors).toBeUndefined();
    const renders = frames.data.node.frames.edges.map((e: any) => e.node.currentRender);
    expect(renders).toHaveLength(FRAMES.length);
    for (const r of renders) {
      // The identity is in the pictures only: the prompt names a pose and a scene.
      expect(r.prompt).not.toMatch(/hair|skin|shirt|trousers|hat/);
      expect(Object.values(r.anchorVersions)).toEqual([anchored.data.addReferenceImages.anchorVersion]);
    }
    // What the renders were scored against: the judge's reading of the two references, which is
    // the identity the reference set was drawn with.
    const truth = JSON.parse(readFileSync(REFERENCE_SET.replace(/\.png$/, '.json'), 'utf8')) as { identity_keys: string[]; identities: number[][] };
    const { rows: [anchor] } = await api.db.owner.query(`SELECT identity FROM character_anchors WHERE character_id = $1`, [decodeId(kit.id)]);
    expect(anchor.identity).toEqual(Object.fromEntries(truth.identity_keys.map((k, i) => [k, truth.identities[IDENTITY]![i]])));
    const scores: number[] = renders.map((r: any) => r.consistencyScore);
    const allFive = scores.filter((s) => s === 1).length / scores.length;
    const perAttribute = scores.reduce((a, b) => a + b, 0) / scores.length;
    process.stdout.write(`reference-anchored renders: all five ${allFive.toFixed(3)}, per attribute ${perAttribute.toFixed(3)} (${scores.join(' ')})\n`);
    expect(allFive).toBeGreaterThanOrEqual(0.7);
  });
});
