import { TestApi, startTestApi } from '../support/api-harness';
import { contentSnapshot, createCharacter, createStory, decodeId, insertCurrentRender } from '../support/fixtures';
import { Subscription, connectWs } from '../support/ws-client';

interface Case {
  field: string;
  query: string;
  variables: () => Record<string, unknown>;
}

/**
 * Project B's admin key against project A's ids, for every query and mutation that takes an id:
 * each answers NOT_FOUND, returns none of A's data, and changes nothing of A.
 */
describe('tenant isolation matrix', () => {
  let api: TestApi;
  let keyA: string;
  let keyB: string;
  let projectA: string;
  const a: Record<string, string> = {};
  const b: Record<string, string> = {};

  beforeAll(async () => {
    api = await startTestApi();
    ({ secret: keyA, projectId: projectA } = await api.createProject('Project A'));
    ({ secret: keyB } = await api.createProject('Project B'));
    a.project = projectA;
    projectA = decodeId(projectA);
    a.character = (await createCharacter(api, keyA, 'Alpha-only-name')).id;
    a.spare = (await createCharacter(api, keyA, 'Alpha spare')).id;
    const story = await createStory(api, keyA, { title: 'Alpha story', characterIds: [a.character], script: 'alpha one\nalpha two\nalpha three' });
    a.story = story.id;
    a.frame = story.frames.edges[0].node.id;
    const render = await insertCurrentRender(api.db.owner, a.frame);
    a.render = Buffer.from(`Render:${render.renderId}`).toString('base64');
    a.image = Buffer.from(`Image:${render.imageId}`).toString('base64');
    const key = await api.gql(`mutation { createApiKey(input: { name: "alpha extra", role: VIEWER }) { apiKey { id } } }`, {}, keyA);
    a.apiKey = key.data.createApiKey.apiKey.id;
    const job = await api.gql(`mutation($id: ID!) { generateStory(storyId: $id) { job { id } } }`, { id: a.story }, keyA);
    a.job = job.data.generateStory.job.id;
    const hook = await api.gql(`mutation { createWebhook(input: { url: "https://alpha.example.com/hook", events: [STORY_UPDATED] }) { webhook { id } } }`, {}, keyA);
    a.webhook = hook.data.createWebhook.webhook.id;
    const { rows: [message] } = await api.db.owner.query(`INSERT INTO webhook_messages (project_id, webhook_id, event, event_id, body, status)
      VALUES ($1, $2, 'story.updated', gen_random_uuid(), '{}', 'DELIVERED') RETURNING id, event_id`, [projectA, decodeId(a.webhook)]);
    const { rows: [delivery] } = await api.db.owner.query(`INSERT INTO webhook_deliveries (project_id, webhook_id, message_id, event, event_id, attempt, http_status, duration_ms)
      VALUES ($1, $2, $3, 'story.updated', $4, 1, 200, 12) RETURNING id`, [projectA, decodeId(a.webhook), message.id, message.event_id]);
    a.webhookDelivery = Buffer.from(`WebhookDelivery:${delivery.id}`).toString('base64');
    const style = await api.gql(`mutation { createStyle(input: { name: "Alpha ink", template: "ink {prompt}" }) { id } }`, {}, keyA);
    a.style = style.data.createStyle.id;
    const refs = await api.gql(`mutation($c: ID!, $i: ID!) { addReferenceImages(characterId: $c, images: [{ uploadId: $i }]) { referenceImages { id } } }`,
      { c: a.spare, i: a.image }, keyA);
    a.referenceImage = refs.data.addReferenceImages.referenceImages[0].id;
    b.character = (await createCharacter(api, keyB, 'Beta hero')).id;
    const storyB = await createStory(api, keyB, { title: 'Beta story', script: 'beta one' });
    b.story = storyB.id;
    b.frame = storyB.frames.edges[0].node.id;
  });
  afterAll(() => api.close());

  const node = (type: string): Case => ({ field: 'node', query: `query($id: ID!) { node(id: $id) { id } }`, variables: () => ({ id: a[type] }) });
  const cases: [string, Case][] = [
    ['node(Project)', node('project')],
    ['node(ApiKey)', node('apiKey')],
    ['node(Character)', node('character')],
    ['node(Story)', node('story')],
    ['node(Frame)', node('frame')],
    ['node(Render)', node('render')],
    ['node(Image)', node('image')],
    ['node(GenerationJob)', node('job')],
    ['node(Webhook)', node('webhook')],
    ['node(WebhookDelivery)', node('webhookDelivery')],
    ['deleteWebhook', { field: 'deleteWebhook', query: `mutation($id: ID!) { deleteWebhook(id: $id) { deletedId } }`, variables: () => ({ id: a.webhook }) }],
    ['revokeApiKey', { field: 'revokeApiKey', query: `mutation($id: ID!) { revokeApiKey(id: $id) { id name } }`, variables: () => ({ id: a.apiKey }) }],
    ['updateCharacter', { field: 'updateCharacter', query: `mutation($id: ID!) { updateCharacter(id: $id, input: { description: "stolen" }) { id name } }`, variables: () => ({ id: a.character }) }],
    ['deleteCharacter', { field: 'deleteCharacter', query: `mutation($id: ID!) { deleteCharacter(id: $id) { deletedId } }`, variables: () => ({ id: a.spare }) }],
    ['createStory with A cast', { field: 'createStory', query: `mutation($c: ID!) { createStory(input: { title: "x", characterIds: [$c] }) { id } }`, variables: () => ({ c: a.character }) }],
    ['updateStory', { field: 'updateStory', query: `mutation($id: ID!) { updateStory(id: $id, input: { title: "stolen" }) { id title } }`, variables: () => ({ id: a.story }) }],
    ['updateStory with A cast', { field: 'updateStory', query: `mutation($id: ID!, $c: ID!) { updateStory(id: $id, input: { characterIds: [$c] }) { id } }`, variables: () => ({ id: b.story, c: a.character }) }],
    ['deleteStory', { field: 'deleteStory', query: `mutation($id: ID!) { deleteStory(id: $id) { deletedId } }`, variables: () => ({ id: a.story }) }],
    ['addFrames', { field: 'addFrames', query: `mutation($id: ID!) { addFrames(storyId: $id, script: "intruder") { frames { id } } }`, variables: () => ({ id: a.story }) }],
    ['updateFrame', { field: 'updateFrame', query: `mutation($id: ID!) { updateFrame(id: $id, input: { prompt: "stolen" }) { id prompt } }`, variables: () => ({ id: a.frame }) }],
    ['updateFrame with A cast', { field: 'updateFrame', query: `mutation($id: ID!, $c: ID!) { updateFrame(id: $id, input: { characterIds: [$c] }) { id } }`, variables: () => ({ id: b.frame, c: a.character }) }],
    ['moveFrame', { field: 'moveFrame', query: `mutation($id: ID!) { moveFrame(id: $id, position: 1) { id } }`, variables: () => ({ id: a.frame }) }],
    ['deleteFrame', { field: 'deleteFrame', query: `mutation($id: ID!) { deleteFrame(id: $id) { deletedId } }`, variables: () => ({ id: a.frame }) }],
    ['buildCharacterAnchor', { field: 'buildCharacterAnchor', query: `mutation($id: ID!) { buildCharacterAnchor(characterId: $id) { job { id } } }`, variables: () => ({ id: a.character }) }],
    ['generateStory', { field: 'generateStory', query: `mutation($id: ID!) { generateStory(storyId: $id) { job { id } } }`, variables: () => ({ id: a.story }) }],
    ['generateStory with A frames', { field: 'generateStory', query: `mutation($id: ID!, $f: ID!) { generateStory(storyId: $id, frameIds: [$f]) { job { id } } }`, variables: () => ({ id: b.story, f: a.frame }) }],
    ['regenerateFrame', { field: 'regenerateFrame', query: `mutation($id: ID!) { regenerateFrame(frameId: $id, seed: 5) { job { id } } }`, variables: () => ({ id: a.frame }) }],
    ['setCurrentRender', { field: 'setCurrentRender', query: `mutation($f: ID!, $r: ID!) { setCurrentRender(frameId: $f, renderId: $r) { id } }`, variables: () => ({ f: a.frame, r: a.render }) }],
    ['setCurrentRender with an A render', { field: 'setCurrentRender', query: `mutation($f: ID!, $r: ID!) { setCurrentRender(frameId: $f, renderId: $r) { id } }`, variables: () => ({ f: b.frame, r: a.render }) }],
    ['addReferenceImages', { field: 'addReferenceImages', query: `mutation($c: ID!, $i: ID!) { addReferenceImages(characterId: $c, images: [{ uploadId: $i }]) { id } }`, variables: () => ({ c: a.character, i: a.image }) }],
    ['addReferenceImages with an A upload', { field: 'addReferenceImages', query: `mutation($c: ID!, $i: ID!) { addReferenceImages(characterId: $c, images: [{ uploadId: $i }]) { id } }`, variables: () => ({ c: b.character, i: a.image }) }],
    ['removeReferenceImage', { field: 'removeReferenceImage', query: `mutation($c: ID!, $r: ID!) { removeReferenceImage(characterId: $c, referenceImageId: $r) { id } }`, variables: () => ({ c: a.spare, r: a.referenceImage }) }],
    ['removeReferenceImage on a B character', { field: 'removeReferenceImage', query: `mutation($c: ID!, $r: ID!) { removeReferenceImage(characterId: $c, referenceImageId: $r) { id } }`, variables: () => ({ c: b.character, r: a.referenceImage }) }],
    ['deleteStyle', { field: 'deleteStyle', query: `mutation($id: ID!) { deleteStyle(id: $id) { deletedId } }`, variables: () => ({ id: a.style }) }],
    ['cancelJob', { field: 'cancelJob', query: `mutation($id: ID!) { cancelJob(id: $id) { job { id status } } }`, variables: () => ({ id: a.job }) }],
  ];

  /** Fields that take no id of another project: checked below for leaks instead. */
  const WITHOUT_IDS = ['viewer', 'models', 'styles', 'createStyle', 'characters', 'stories', 'apiKeys', 'jobs', 'webhooks', 'createProject', 'createApiKey', 'createCharacter',
    'createWebhook'];

  /** Over graphql-ws: NOT_FOUND on subscribe, then the subscription completes (no event ever follows). */
  const subscriptionCases: [string, Case][] = [
    ['jobUpdated', { field: 'jobUpdated', query: `subscription($id: ID!) { jobUpdated(jobId: $id) { id status } }`, variables: () => ({ id: a.job }) }],
    ['storyUpdated', { field: 'storyUpdated', query: `subscription($id: ID!) { storyUpdated(storyId: $id) { id title } }`, variables: () => ({ id: a.story }) }],
  ];

  it('covers every query, mutation and subscription of the schema', () => {
    const fields = [
      ...Object.keys(api.server.schema.getQueryType()!.getFields()),
      ...Object.keys(api.server.schema.getMutationType()!.getFields()),
      ...Object.keys(api.server.schema.getSubscriptionType()!.getFields()),
    ];
    const covered = new Set([...[...cases, ...subscriptionCases].map(([, c]) => c.field), ...WITHOUT_IDS]);
    expect(fields.filter((f) => !covered.has(f))).toEqual([]);
  });

  it.each(cases)("%s with B's key on A's ids: NOT_FOUND, no data, nothing changed", async (_name, c) => {
    const before = await contentSnapshot(api.db.owner, projectA);
    const result = await api.gql(c.query, c.variables(), keyB);
    expect(result.errors?.map((e) => e.extensions?.code)).toEqual(['NOT_FOUND']);
    expect(result.data?.[c.field] ?? null).toBeNull();
    const text = JSON.stringify(result);
    expect(text).not.toMatch(/Alpha|alpha/);
    expect(await contentSnapshot(api.db.owner, projectA)).toEqual(before);
  });

  it.each(subscriptionCases)("subscription %s with B's key on A's ids: NOT_FOUND, no data, completed", async (_name, c) => {
    const ws = connectWs(api.url, { apiKey: keyB });
    try {
      const sub = new Subscription(ws.client, c.query, c.variables());
      const first = await sub.next();
      await sub.done;
      expect(first.errors?.map((e) => e.extensions?.code)).toEqual(['NOT_FOUND']);
      expect(first.data?.[c.field] ?? null).toBeNull();
      expect(JSON.stringify(sub.messages)).not.toMatch(/Alpha|alpha/);
      expect(sub.messages).toHaveLength(1);
    } finally {
      await ws.dispose();
    }
  });

  it("lists and the viewer show B nothing of A", async () => {
    const r = await api.gql(`{
      viewer { project { id name } }
      characters(first: 100) { edges { node { id name } } }
      found: characters(search: "Alpha-only") { edges { node { id } } }
      stories(first: 10) { edges { node { id title frames(first: 20) { edges { node { id prompt } } } } } }
      apiKeys(first: 100) { edges { node { id name } } }
      jobs(first: 100) { edges { node { id status story { id } } } }
      webhooks(first: 20) { edges { node { id url deliveries(first: 5) { edges { node { id } } } } } }
    }`, {}, keyB);
    expect(r.errors).toBeUndefined();
    const text = JSON.stringify(r.data);
    expect(text).not.toMatch(/Alpha|alpha|Project A/);
    for (const id of Object.values(a)) expect(text).not.toContain(id);
    expect(r.data.found.edges).toEqual([]);
    expect(r.data.stories.edges.map((e: any) => e.node.title)).toEqual(['Beta story']);
    expect(r.data.jobs.edges).toEqual([]);
    expect(r.data.webhooks.edges).toEqual([]);
  });

  it("still serves A everything with A's key", async () => {
    const r = await api.gql(`query($id: ID!) { node(id: $id) { ... on Story { title frameCount frames { edges { node { currentRender { id } } } } } } }`, { id: a.story }, keyA);
    expect(r.data.node).toMatchObject({ title: 'Alpha story', frameCount: 3 });
    expect(r.data.node.frames.edges[0].node.currentRender.id).toBe(a.render);
    expect(decodeId(a.story)).toMatch(/-/);
  });
});
