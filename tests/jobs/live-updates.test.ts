/**
 * Live updates driven by real mutations: generateStory queues a job, a worker thread renders it,
 * and a graphql-ws client hears the job and the story change until the job has finished.
 */
import { createCharacter, createStory } from '../support/fixtures';
import { GenerationApi, startGenerationApi } from '../support/generation-harness';
import { Subscription, WsConnection, connectWs } from '../support/ws-client';

describe('live updates of generation jobs', () => {
  let api: GenerationApi;
  let key: string;
  let ws: WsConnection;

  beforeAll(async () => {
    api = await startGenerationApi({ workers: 1 });
    key = (await api.createProject('Live')).secret;
    ws = connectWs(api.url, { authorization: `Bearer ${key}` });
    await ws.connected;
  });
  afterAll(async () => {
    await ws?.dispose();
    await api?.close();
  });

  it('follows generateStory to SUCCEEDED, and the story until every frame has its render', async () => {
    const hero = await createCharacter(api, key, 'Runner', { description: 'a person with a green hat', seed: 5 });
    const story = await createStory(api, key, { title: 'Live', characterIds: [hero.id], steps: 3, seed: 2, script: 'Runner in the forest\n[NC] the sea' });
    const storyUpdates = new Subscription(ws.client, `subscription($id: ID!) { storyUpdated(storyId: $id) {
      frames { edges { node { position currentRender { id seed } } } } } }`, { id: story.id });
    const initial = (await storyUpdates.next()).data.storyUpdated;
    expect(initial.frames.edges.map((e: any) => e.node.currentRender)).toEqual([null, null]);

    const started = await api.gql(`mutation($id: ID!) { generateStory(storyId: $id) { job { id } } }`, { id: story.id }, key);
    expect(started.errors).toBeUndefined();
    const jobId = started.data.generateStory.job.id;
    const jobUpdates = new Subscription(ws.client, `subscription($id: ID!) { jobUpdated(jobId: $id) {
      id status progress { step total framesDone framesTotal } renders { id isCurrent } } }`, { id: jobId });
    await jobUpdates.done;

    const states = jobUpdates.messages.map((m) => m.data.jobUpdated);
    const last = states.at(-1);
    expect(last).toMatchObject({ id: jobId, status: 'SUCCEEDED', progress: { framesDone: 2, framesTotal: 2 } });
    expect(last.renders).toHaveLength(2);
    // Frames done never go backwards, whatever the client missed in between.
    const done = states.map((s) => s.progress.framesDone);
    expect(done).toEqual([...done].sort((a, b) => a - b));
    expect(jobUpdates.messages.every((m) => m.errors === undefined)).toBe(true);

    const rendered = await storyUpdates.until((m) => m.data.storyUpdated.frames.edges.every((e: any) => e.node.currentRender !== null));
    expect(rendered.data.storyUpdated.frames.edges.map((e: any) => e.node.currentRender.id).sort())
      .toEqual(last.renders.map((r: any) => r.id).sort());
    storyUpdates.stop();
  });

  it('hears a cancellation', async () => {
    const story = await createStory(api, key, { title: 'Cancelled', steps: 3, script: '[NC] a quiet street\n[NC] rain' });
    // A job behind another one stays queued long enough to cancel it before a worker takes it.
    const blocker = await api.gql(`mutation($id: ID!) { generateStory(storyId: $id) { job { id } } }`, { id: story.id }, key);
    const started = await api.gql(`mutation($id: ID!) { generateStory(storyId: $id) { job { id } } }`, { id: story.id }, key);
    const jobId = started.data.generateStory.job.id;
    const updates = new Subscription(ws.client, `subscription($id: ID!) { jobUpdated(jobId: $id) { status } }`, { id: jobId });
    await updates.next();
    const cancelled = await api.gql(`mutation($id: ID!) { cancelJob(id: $id) { job { status } } }`, { id: jobId }, key);
    expect(cancelled.errors).toBeUndefined();
    await updates.done;
    expect(updates.messages.at(-1)?.data.jobUpdated.status).toBe('CANCELLED');
    await api.waitForJob(blocker.data.generateStory.job.id, key);
  });
});
