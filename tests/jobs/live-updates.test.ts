/**
 * Live updates driven by real mutations: generateStory queues a job, a worker thread renders it,
 * and a graphql-ws client hears the job and the story change until the job has finished.
 */
import { randomBytes } from 'node:crypto';
import { verifySignature } from '../../src/webhooks/signature';
import { createCharacter, createStory } from '../support/fixtures';
import { GenerationApi, startGenerationApi } from '../support/generation-harness';
import { WebhookReceiver, eventually } from '../support/webhook-receiver';
import { Subscription, WsConnection, connectWs } from '../support/ws-client';

describe('live updates of generation jobs', () => {
  let api: GenerationApi;
  let key: string;
  let ws: WsConnection;
  let receiver: WebhookReceiver;
  const env = { STORYFORGE_WEBHOOKS_ALLOW_PRIVATE: '1', STORYFORGE_WEBHOOK_KEY: randomBytes(32).toString('hex') };

  beforeAll(async () => {
    // The harness's server reads webhook settings from the environment: a local receiver needs private addresses.
    Object.assign(process.env, env);
    receiver = await new WebhookReceiver().start();
    api = await startGenerationApi({ workers: 1 });
    key = (await api.createProject('Live')).secret;
    ws = connectWs(api.url, { authorization: `Bearer ${key}` });
    await ws.connected;
  });
  afterAll(async () => {
    await ws?.dispose();
    await api?.close();
    await receiver?.stop();
    for (const name of Object.keys(env)) delete process.env[name];
  });

  it('follows generateStory to SUCCEEDED, and the story until every frame has its render; the webhook hears it once', async () => {
    const hook = await api.gql(`mutation($url: String!) { createWebhook(input: { url: $url, events: [JOB_SUCCEEDED] }) { webhook { id } secret } }`,
      { url: receiver.url }, key);
    expect(hook.errors).toBeUndefined();
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
      id status progress { phase fraction label step total framesDone framesTotal banksDone banksTotal } renders { id isCurrent } } }`, { id: jobId });
    await jobUpdates.done;

    const states = jobUpdates.messages.map((m) => m.data.jobUpdated);
    const last = states.at(-1);
    expect(last).toMatchObject({ id: jobId, status: 'SUCCEEDED', progress: { framesDone: 2, framesTotal: 2 } });
    expect(last.renders).toHaveLength(2);
    // Frames done never go backwards, whatever the client missed in between.
    const done = states.map((s) => s.progress.framesDone);
    expect(done).toEqual([...done].sort((a, b) => a - b));
    // The bar: one fraction for the whole job that never goes back, while phases follow their order.
    const fractions = states.map((s) => s.progress.fraction);
    expect(fractions).toEqual([...fractions].sort((a, b) => a - b));
    expect(last.progress).toMatchObject({ phase: 'DONE', fraction: 1, label: 'done' });
    const order = ['QUEUED', 'IDENTITY', 'FRAMES', 'DONE'];
    const phases = states.map((s) => order.indexOf(s.progress.phase));
    expect(phases).toEqual([...phases].sort((a, b) => a - b));
    const working = states.filter((s) => s.progress.phase === 'IDENTITY' || s.progress.phase === 'FRAMES');
    expect(working.length).toBeGreaterThan(0);
    for (const s of working) {
      expect(s.progress.label).toMatch(s.progress.phase === 'IDENTITY' ? /^identity bank 1\/1(, step \d+\/\d+)?$/ : /^frames? [12](-2)?\/2, step \d+\/3$/);
      // Never whole before every frame is stored (the last tenth of a frame is its storing).
      expect(s.progress.fraction).toBeLessThanOrEqual(1);
      if (s.progress.fraction === 1) expect(s.progress.framesDone).toBe(s.progress.framesTotal);
      // Drawing frames comes after the identity bank's work, which already counted.
      if (s.progress.phase === 'FRAMES') expect(s.progress.fraction).toBeGreaterThan(0);
    }
    expect(jobUpdates.messages.every((m) => m.errors === undefined)).toBe(true);

    const rendered = await storyUpdates.until((m) => m.data.storyUpdated.frames.edges.every((e: any) => e.node.currentRender !== null));
    expect(rendered.data.storyUpdated.frames.edges.map((e: any) => e.node.currentRender.id).sort())
      .toEqual(last.renders.map((r: any) => r.id).sort());
    storyUpdates.stop();

    // The worker's own transaction queued the webhook when the job finished.
    const request = await receiver.next();
    expect(verifySignature(hook.data.createWebhook.secret, request.body, String(request.headers['x-storyforge-signature']))).toBe(true);
    expect(JSON.parse(request.body)).toMatchObject({ type: 'job.succeeded', data: { job: { id: jobId, status: 'SUCCEEDED', progress: { framesDone: 2 } } } });
    const log = await eventually(async () => {
      const r = await api.gql(`query($id: ID!) { node(id: $id) { ... on Webhook { deliveries { edges { node { attempt httpStatus succeeded } } } } } }`,
        { id: hook.data.createWebhook.webhook.id }, key);
      return r.data.node.deliveries.edges.length > 0 ? r.data.node.deliveries.edges.map((e: any) => e.node) : undefined;
    });
    expect(log).toEqual([{ attempt: 1, httpStatus: 204, succeeded: true }]);
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
