/** Studio tools see what a prompt will lose while the user types: on the story, the frame and addFrames. */
import { TestApi, startTestApi } from '../support/api-harness';
import { createCharacter } from '../support/fixtures';

const WARNINGS = `promptWarnings { code words frameId position }`;

describe('prompt warnings up front', () => {
  let api: TestApi;
  let key: string;
  let cast: string[];

  beforeAll(async () => {
    api = await startTestApi();
    key = (await api.createProject('Words')).secret;
    cast = [
      (await createCharacter(api, key, 'Mira', { description: 'a person with red hair, a blue cap, pale skin, a green shirt and black trousers' })).id,
      (await createCharacter(api, key, 'Tomo', { description: 'a person with blonde hair, a red top hat, tan skin, a pink shirt and gray trousers' })).id,
    ];
  });
  afterAll(() => api.close());

  it('lists, per frame, the shortened descriptions and the unknown words of a story-world story', async () => {
    const r = await api.gql(`mutation($input: CreateStoryInput!) { createStory(input: $input) { ${WARNINGS} frames { edges { node { id ${WARNINGS} } } } } }`,
      { input: { title: 'Two', characterIds: cast, script: 'waving on the beach\n[Mira] sitting in the snow at dusk' } }, key);
    expect(r.errors).toBeUndefined();
    const frames = r.data.createStory.frames.edges.map((e: any) => e.node);
    expect(r.data.createStory.promptWarnings.map((w: any) => [w.position, w.code, w.frameId === frames[w.position - 1].id])).toEqual([
      [1, 'PART_SHORTENED', true], [1, 'PART_SHORTENED', true], [2, 'UNKNOWN_WORDS', true],
    ]);
    // The [Mira] tag stays in the prompt as her name, which the story world has no word for.
    expect(frames[1].promptWarnings).toEqual([{ code: 'UNKNOWN_WORDS', words: ['mira', 'dusk'], frameId: frames[1].id, position: 2 }]);
  });

  it('returns the new frames\' warnings from addFrames, and none for prompts that fit', async () => {
    const story = await api.gql(`mutation($input: CreateStoryInput!) { createStory(input: $input) { id } }`, { input: { title: 'Add', characterIds: [cast[0]] } }, key);
    const added = await api.gql(`mutation($s: ID!) { addFrames(storyId: $s, script: "walking in the forest\\nwalking in the glimmerwood") { warnings { code words position } } }`,
      { s: story.data.createStory.id }, key);
    expect(added.data.addFrames.warnings).toEqual([{ code: 'UNKNOWN_WORDS', words: ['glimmerwood'], position: 2 }]);
  });

  it('has nothing to say for an SD pack whose BPE spells any word, until the prompt is too long', async () => {
    const r = await api.gql(`mutation($input: CreateStoryInput!) { createStory(input: $input) { ${WARNINGS} } }`,
      { input: { title: 'SD', model: 'sd15-tiny', script: `glimmerwood at dusk\n${'castle '.repeat(90)}` } }, key);
    expect(r.errors).toBeUndefined();
    expect(r.data.createStory.promptWarnings.map((w: any) => [w.position, w.code])).toEqual([[2, 'PROMPT_TRUNCATED']]);
  });
});
