/** Style presets: the built-in ones, a project's own, a story's choice, and where a style has no effect. */
import { TestApi, startTestApi } from '../support/api-harness';
import { tableCounts } from '../support/fixtures';

const STYLE = `id name builtIn template negativePrompt families`;

describe('styles', () => {
  let api: TestApi;
  let key: string;
  let other: string;

  beforeAll(async () => {
    api = await startTestApi();
    key = (await api.createProject('Styled')).secret;
    other = (await api.createProject('Other')).secret;
  });
  afterAll(() => api.close());

  const createStyle = (input: Record<string, unknown>, k = key) =>
    api.gql(`mutation($input: CreateStyleInput!) { createStyle(input: $input) { ${STYLE} } }`, { input }, k);
  const createStory = (input: Record<string, unknown>, k = key) =>
    api.gql(`mutation($input: CreateStoryInput!) { createStory(input: $input) { id style negativePrompt promptWarnings { code message } } }`,
      { input: { title: 'S', script: 'waving on the beach', ...input } }, k);

  it("lists StoryDiffusion's styles as built-in presets, each wrapping {prompt}", async () => {
    const r = await api.gql(`{ styles { ${STYLE} } }`, {}, key);
    expect(r.data.styles.map((s: any) => s.name)).toEqual(['No style', 'Japanese anime', 'Cinematic', 'Digital art', 'Photographic',
      'Comic book', 'Line art', 'Film noir', 'Isometric rooms']);
    for (const s of r.data.styles) {
      expect({ name: s.name, builtIn: s.builtIn, id: s.id, wraps: s.template.includes('{prompt}') }).toEqual({ name: s.name, builtIn: true, id: null, wraps: true });
    }
    expect(r.data.styles.find((s: any) => s.name === 'Comic book').families).toEqual(['sd15', 'sdxl']);
  });

  it("adds a project's own style, refusing a taken name and a template without {prompt}, writing nothing then", async () => {
    const before = await tableCounts(api.db.owner);
    const builtIn = await createStyle({ name: 'cinematic', template: '{prompt} x' });
    expect(builtIn.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', field: 'name' });
    const noSlot = await createStyle({ name: 'Ink', template: 'ink drawing' });
    expect(noSlot.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'template' });
    expect(await tableCounts(api.db.owner)).toEqual(before);
    const ink = await createStyle({ name: 'Ink wash', template: 'sumi-e ink wash painting of {prompt}', negativePrompt: 'colour', families: ['sd15'] });
    expect(ink.data.createStyle).toMatchObject({ name: 'Ink wash', builtIn: false, families: ['sd15'] });
    expect(ink.data.createStyle.id).toEqual(expect.any(String));
    const again = await createStyle({ name: 'INK WASH', template: '{prompt}' });
    expect(again.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', field: 'name' });
    // Another project sees only the built-in styles, and cannot name this one.
    const theirs = await api.gql(`{ styles { name } }`, {}, other);
    expect(theirs.data.styles.map((s: any) => s.name)).not.toContain('Ink wash');
    const borrowed = await createStory({ style: 'Ink wash' }, other);
    expect(borrowed.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'style' });
  });

  it('lets a story pick a style by name (any case) and a negative prompt, and refuses an unknown one', async () => {
    const story = await createStory({ model: 'sd15-tiny', style: 'comic BOOK', negativePrompt: 'blurry' });
    expect(story.data.createStory).toMatchObject({ style: 'Comic book', negativePrompt: 'blurry', promptWarnings: [] });
    const unknown = await createStory({ style: 'Baroque' });
    expect(unknown.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'style' });
    expect(unknown.errors?.[0]?.message).toMatch(/no style named "Baroque".*Comic book.*Ink wash/);
  });

  it('says when a style has no effect on the story\'s model, and leaves it out', async () => {
    const story = await createStory({ style: 'Cinematic' });
    expect(story.data.createStory.promptWarnings).toEqual([{ code: 'STYLE_NO_EFFECT',
      message: 'the style "Cinematic" is written for sd15, sdxl models; story-world (story-world) does not read it, so it is left out' }]);
  });

  it('refuses to delete a style a story uses, then deletes it once none does', async () => {
    const ink = (await api.gql(`{ styles { id name } }`, {}, key)).data.styles.find((s: any) => s.name === 'Ink wash');
    const story = await createStory({ model: 'sd15-tiny', style: 'Ink wash' });
    const del = `mutation($id: ID!) { deleteStyle(id: $id) { deletedId } }`;
    const refused = await api.gql(del, { id: ink.id }, key);
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', field: 'id' });
    const notTheirs = await api.gql(del, { id: ink.id }, other);
    expect(notTheirs.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND' });
    await api.gql(`mutation($id: ID!) { updateStory(id: $id, input: { style: "" }) { style } }`, { id: story.data.createStory.id }, key);
    const deleted = await api.gql(del, { id: ink.id }, key);
    expect(deleted.data.deleteStyle).toEqual({ deletedId: ink.id });
  });
});
