import { loadConfig } from '../../src/config';
import { createApiServer, ApiServer } from '../../src/api/server';
import { withTenant } from '../../src/db/tenant-session';
import { EVENTS_CHANNEL, jobUpdated, storyUpdated } from '../../src/events/publisher';
import { Logger } from '../../src/util/logger';
import { TestApi, startTestApi } from '../support/api-harness';
import { createStory, decodeId, insertCurrentRender } from '../support/fixtures';
import { Subscription, WsConnection, connectWs } from '../support/ws-client';

const STORY_SUBSCRIPTION = `subscription($id: ID!) { storyUpdated(storyId: $id) { id title frameCount } }`;
const JOB_SUBSCRIPTION = `subscription($id: ID!) { jobUpdated(jobId: $id) { id kind status progress { step total framesDone framesTotal }
  error { code message } story { frames { edges { node { currentRender { id } } } } } } }`;

/**
 * graphql-ws subscriptions against the real server and PostgreSQL: a real client over a real
 * WebSocket, events from real NOTIFYs (the publisher inside tenant transactions, or raw ones).
 */
describe('subscriptions', () => {
  let api: TestApi;
  let keyA: string;
  let keyB: string;
  let projectA: string;
  let storyA: string;
  const open: WsConnection[] = [];

  const connect = (params: Record<string, unknown> | undefined, url = api.url) => {
    const connection = connectWs(url, params);
    open.push(connection);
    return connection;
  };
  const rename = async (storyGlobalId: string, title: string) => {
    await api.db.owner.query(`UPDATE stories SET title = $1 WHERE id = $2`, [title, decodeId(storyGlobalId)]);
  };
  /** The real publisher, in a real tenant transaction: delivered on commit. */
  const publishStory = (projectId: string, storyGlobalId: string) =>
    withTenant(api.db.dataSource, projectId, (session) => storyUpdated(session, decodeId(storyGlobalId)));

  beforeAll(async () => {
    api = await startTestApi();
    ({ secret: keyA, projectId: projectA } = await api.createProject('Project A'));
    ({ secret: keyB } = await api.createProject('Project B'));
    projectA = decodeId(projectA);
    storyA = (await createStory(api, keyA, { title: 'Alpha story', script: 'one\ntwo' })).id;
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.dispose()));
  });
  afterAll(() => api.close());

  describe('connection', () => {
    it('refuses a connection without a key, saying where the key goes', async () => {
      const c = connect(undefined);
      await expect(c.connected).rejects.toBeDefined();
      const closed = await c.closed;
      expect(closed.code).toBe(4401);
      expect(closed.reason).toMatch(/^UNAUTHENTICATED: .*connection parameters.*authorization.*apiKey/);
    });

    it('refuses an unknown key and a revoked key with 4401 and the reason', async () => {
      const unknown = connect({ authorization: 'Bearer sfk_not-a-real-key-0000000000' });
      expect(await unknown.closed).toEqual({ code: 4401, reason: 'UNAUTHENTICATED: invalid or revoked API key' });

      const created = await api.gql(`mutation { createApiKey(input: { name: "short-lived", role: VIEWER }) { apiKey { id } secret } }`, {}, keyA);
      await api.gql(`mutation($id: ID!) { revokeApiKey(id: $id) { id } }`, { id: created.data.createApiKey.apiKey.id }, keyA);
      const revoked = connect({ apiKey: created.data.createApiKey.secret });
      expect(await revoked.closed).toEqual({ code: 4401, reason: 'UNAUTHENTICATED: invalid or revoked API key' });
    });

    it('refuses a malformed authorization, two different keys, and the platform key', async () => {
      expect((await connect({ authorization: keyA }).closed).code).toBe(4401);
      const both = await connect({ authorization: `Bearer ${keyA}`, apiKey: keyB }).closed;
      expect(both).toEqual({ code: 4401, reason: 'UNAUTHENTICATED: connection parameters authorization and apiKey name different keys' });
      expect(await connect({ authorization: `Bearer ${api.platformKey}` }).closed)
        .toEqual({ code: 4403, reason: 'FORBIDDEN: subscriptions need a project API key' });
    });

    it('accepts the key as { authorization } or as { apiKey }, or both when they agree', async () => {
      await connect({ authorization: `Bearer ${keyA}` }).connected;
      await connect({ apiKey: keyA }).connected;
      await connect({ authorization: `Bearer ${keyA}`, apiKey: keyA }).connected;
    });

    it('runs no operation of a connection whose key was revoked since it connected', async () => {
      const created = await api.gql(`mutation { createApiKey(input: { name: "revoked later", role: VIEWER }) { apiKey { id } secret } }`, {}, keyA);
      const c = connect({ apiKey: created.data.createApiKey.secret });
      await c.connected;
      await api.gql(`mutation($id: ID!) { revokeApiKey(id: $id) { id } }`, { id: created.data.createApiKey.apiKey.id }, keyA);
      // Refused by the operation's own key check (UNAUTHENTICATED), or the socket is already closed
      // by the revocation's announcement, whichever comes first: never a state.
      const sub = new Subscription(c.client, STORY_SUBSCRIPTION, { id: storyA });
      await expect(sub.done).rejects.toBeDefined();
      expect(sub.messages).toEqual([]);
      expect(await c.closed).toEqual({ code: 4401, reason: 'UNAUTHENTICATED: invalid or revoked API key' });
    });

    it('closes an open connection, subscriptions and all, once its key is revoked', async () => {
      // A server that checks open connections' keys often (the default is every minute).
      const checking = await createApiServer({ platformKey: undefined, maxBodyBytes: 1_000_000, rateLimitPerMinute: 0, maxQueryCost: loadConfig({}).maxQueryCost, wsKeyRecheckMs: 100 },
        api.db.dataSource, new Logger('error', {}, () => undefined));
      try {
        const port = await checking.listen(0, '127.0.0.1');
        const created = await api.gql(`mutation { createApiKey(input: { name: "revoked while open", role: VIEWER }) { apiKey { id } secret } }`, {}, keyA);
        const c = connect({ apiKey: created.data.createApiKey.secret }, `http://127.0.0.1:${port}/graphql`);
        const sub = new Subscription(c.client, STORY_SUBSCRIPTION, { id: storyA });
        await sub.next();
        await api.gql(`mutation($id: ID!) { revokeApiKey(id: $id) { id } }`, { id: created.data.createApiKey.apiKey.id }, keyA);
        expect(await c.closed).toEqual({ code: 4401, reason: 'UNAUTHENTICATED: invalid or revoked API key' });
        await expect(sub.done).rejects.toBeDefined();
      } finally {
        await checking.stop();
      }
    });

    it('applies the HTTP limits: depth and query cost', async () => {
      const c = connect({ apiKey: keyA });
      const deep = new Subscription(c.client, `subscription($id: ID!) { storyUpdated(storyId: $id) {
        frames { edges { node { story { frames { edges { node { story { frames { edges { node { id } } } } } } } } } } } } }`, { id: storyA });
      await expect(deep.done).rejects.toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'GRAPHQL_VALIDATION_FAILED' }) })]);
      const costly = new Subscription(c.client, `subscription($id: ID!) { storyUpdated(storyId: $id) {
        frames(first: 100) { edges { node { story { frames(first: 100) { edges { node { id characters { id } } } } } } } } } }`, { id: storyA });
      await expect(costly.done).rejects.toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }) })]);
    });
  });

  describe('storyUpdated', () => {
    it('sends the current state at once, then the state after each committed change', async () => {
      const c = connect({ apiKey: keyA });
      const sub = new Subscription(c.client, STORY_SUBSCRIPTION, { id: storyA });
      expect((await sub.next()).data.storyUpdated).toEqual({ id: storyA, title: 'Alpha story', frameCount: 2 });

      await rename(storyA, 'Alpha story, take 2');
      await publishStory(projectA, storyA);
      expect((await sub.next()).data.storyUpdated.title).toBe('Alpha story, take 2');

      // A rolled-back change is never heard of: the next message is the next committed change.
      await expect(withTenant(api.db.dataSource, projectA, async (session) => {
        await storyUpdated(session, decodeId(storyA));
        throw new Error('roll back');
      })).rejects.toThrow('roll back');
      await rename(storyA, 'Alpha story, take 3');
      await publishStory(projectA, storyA);
      expect((await sub.next()).data.storyUpdated.title).toBe('Alpha story, take 3');
      expect(sub.messages).toHaveLength(3);
      await rename(storyA, 'Alpha story');
    });

    it('hears edits made through the API: updateStory, addFrames, moveFrame, deleteFrame', async () => {
      const story = await createStory(api, keyA, { title: 'Edited', script: 'a\nb' });
      const sub = new Subscription(connect({ apiKey: keyA }).client,
        `subscription($id: ID!) { storyUpdated(storyId: $id) { title frames { edges { node { id prompt } } } } }`, { id: story.id });
      await sub.next();
      const prompts = (m: any) => m.data.storyUpdated.frames.edges.map((e: any) => e.node.prompt);
      await api.gql(`mutation($id: ID!) { updateStory(id: $id, input: { title: "Edited twice" }) { id } }`, { id: story.id }, keyA);
      expect((await sub.next()).data.storyUpdated.title).toBe('Edited twice');
      await api.gql(`mutation($id: ID!) { addFrames(storyId: $id, script: "c") { frames { id } } }`, { id: story.id }, keyA);
      expect(prompts(await sub.next())).toEqual(['a', 'b', 'c']);
      await api.gql(`mutation($id: ID!) { moveFrame(id: $id, position: 2) { id } }`, { id: story.frames.edges[0].node.id }, keyA);
      expect(prompts(await sub.next())).toEqual(['b', 'a', 'c']);
      await api.gql(`mutation($id: ID!) { deleteFrame(id: $id) { deletedId } }`, { id: story.frames.edges[1].node.id }, keyA);
      expect(prompts(await sub.next())).toEqual(['a', 'c']);
      sub.stop();
    });

    it('hears a raw NOTIFY from any connection (another process), and holds no transaction while waiting', async () => {
      const c = connect({ apiKey: keyA });
      const sub = new Subscription(c.client, STORY_SUBSCRIPTION, { id: storyA });
      await sub.next();
      const idle = await api.db.owner.query(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'`);
      expect(idle.rows[0].n).toBe(0);

      await rename(storyA, 'Renamed elsewhere');
      await api.db.owner.query(`SELECT pg_notify($1, $2)`, [EVENTS_CHANNEL, JSON.stringify({ type: 'story.updated', projectId: projectA, storyId: decodeId(storyA) })]);
      expect((await sub.next()).data.storyUpdated.title).toBe('Renamed elsewhere');
      await rename(storyA, 'Alpha story');
    });

    it('lets a viewer subscribe, and completes when the story is deleted', async () => {
      const viewer = (await api.gql(`mutation { createApiKey(input: { name: "watcher", role: VIEWER }) { secret } }`, {}, keyA)).data.createApiKey.secret;
      const doomed = (await createStory(api, keyA, { title: 'Doomed', script: 'x' })).id;
      const c = connect({ apiKey: viewer });
      const sub = new Subscription(c.client, STORY_SUBSCRIPTION, { id: doomed });
      expect((await sub.next()).data.storyUpdated.title).toBe('Doomed');
      expect((await api.gql(`mutation($id: ID!) { deleteStory(id: $id) { deletedId } }`, { id: doomed }, keyA)).errors).toBeUndefined();
      await sub.done;
      expect(sub.messages).toHaveLength(1);
    });

    it('reconnects its LISTEN after the connection drops, and re-sends the current state', async () => {
      const listener = api.server.services.live.listener;
      const c = connect({ apiKey: keyA });
      const sub = new Subscription(c.client, STORY_SUBSCRIPTION, { id: storyA });
      await sub.next();
      // A change whose event is lost (as one sent while the listener is down would be).
      await rename(storyA, 'While nobody listened');
      const before = listener.connections;
      const killed = await api.db.owner.query(
        `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'storyforge-events'`);
      expect(killed.rows).toEqual([{ ok: true }]);
      await listener.waitForConnection(before);
      // After the reconnection every subscriber gets the current state, missed changes included.
      expect((await sub.until((m) => m.data?.storyUpdated.title === 'While nobody listened')).data.storyUpdated.title).toBe('While nobody listened');
      await rename(storyA, 'After the reconnect');
      await publishStory(projectA, storyA);
      expect((await sub.until((m) => m.data?.storyUpdated.title === 'After the reconnect'))).toBeDefined();
      await rename(storyA, 'Alpha story');
    });

    it('fans out one event to every subscriber of every API process sharing the database', async () => {
      const second: ApiServer = await createApiServer({ platformKey: undefined, maxBodyBytes: 1_000_000, rateLimitPerMinute: 0, maxQueryCost: loadConfig({}).maxQueryCost },
        api.db.dataSource, new Logger('error', {}, () => undefined));
      try {
        const port = await second.listen(0, '127.0.0.1');
        const here = new Subscription(connect({ apiKey: keyA }).client, STORY_SUBSCRIPTION, { id: storyA });
        const there = new Subscription(connect({ apiKey: keyA }, `http://127.0.0.1:${port}/graphql`).client, STORY_SUBSCRIPTION, { id: storyA });
        await here.next();
        await there.next();
        await rename(storyA, 'Seen everywhere');
        await publishStory(projectA, storyA);
        expect((await here.next()).data.storyUpdated.title).toBe('Seen everywhere');
        expect((await there.next()).data.storyUpdated.title).toBe('Seen everywhere');
        await rename(storyA, 'Alpha story');
      } finally {
        await second.stop();
      }
    });
  });

  describe('jobUpdated', () => {
    /** A job row as the job system writes it (its mutations are tested in tests/jobs). */
    const insertJob = async (storyGlobalId: string) => {
      const { rows: [job] } = await api.db.owner.query(
        `INSERT INTO generation_jobs (project_id, kind, status, story_id, progress_total, frames_total)
         VALUES ($1, 'story', 'QUEUED', $2, 4, 2) RETURNING id`, [projectA, decodeId(storyGlobalId)]);
      return { id: job.id as string, globalId: Buffer.from(`GenerationJob:${job.id}`).toString('base64') };
    };
    const setJob = async (id: string, assignments: string) => {
      await api.db.owner.query(`UPDATE generation_jobs SET ${assignments} WHERE id = $1`, [id]);
      await withTenant(api.db.dataSource, projectA, (session) => jobUpdated(session, { id, storyId: null }));
    };

    it('follows a job: status, progress, current renders; completes once it has finished', async () => {
      const story = await createStory(api, keyA, { title: 'Job story', script: 'first\nsecond' });
      const job = await insertJob(story.id);
      const sub = new Subscription(connect({ apiKey: keyA }).client, JOB_SUBSCRIPTION, { id: job.globalId });
      const first = (await sub.next()).data.jobUpdated;
      expect(first).toMatchObject({ id: job.globalId, kind: 'STORY', status: 'QUEUED', progress: { step: 0, total: 4, framesDone: 0, framesTotal: 2 }, error: null });
      expect(first.story.frames.edges.map((e: any) => e.node.currentRender)).toEqual([null, null]);

      await setJob(job.id, `status = 'RUNNING', progress_step = 2`);
      expect((await sub.next()).data.jobUpdated).toMatchObject({ status: 'RUNNING', progress: { step: 2, framesDone: 0 } });

      const render = await insertCurrentRender(api.db.owner, story.frames.edges[0].node.id);
      await setJob(job.id, `progress_step = 4, frames_done = 1`);
      const third = (await sub.next()).data.jobUpdated;
      expect(third.progress).toEqual({ step: 4, total: 4, framesDone: 1, framesTotal: 2 });
      expect(third.story.frames.edges[0].node.currentRender.id).toBe(Buffer.from(`Render:${render.renderId}`).toString('base64'));

      await setJob(job.id, `status = 'FAILED', error_code = 'GENERATION_FAILED', error_message = 'out of luck', finished_at = now()`);
      expect((await sub.next()).data.jobUpdated).toMatchObject({ status: 'FAILED', error: { code: 'GENERATION_FAILED', message: 'out of luck' } });
      await sub.done;
      expect(sub.messages).toHaveLength(4);
    });

    it('sends a finished job once and completes, for a client that subscribes late', async () => {
      const job = await insertJob(storyA);
      await api.db.owner.query(`UPDATE generation_jobs SET status = 'SUCCEEDED', progress_step = 4, frames_done = 2 WHERE id = $1`, [job.id]);
      const sub = new Subscription(connect({ apiKey: keyA }).client, JOB_SUBSCRIPTION, { id: job.globalId });
      await sub.done;
      expect(sub.messages.map((m) => m.data.jobUpdated.status)).toEqual(['SUCCEEDED']);
    });

    it('collapses changes a busy client has not taken yet into the latest state', async () => {
      const job = await insertJob(storyA);
      const sub = new Subscription(connect({ apiKey: keyA }).client, JOB_SUBSCRIPTION, { id: job.globalId });
      await sub.next();
      for (let step = 1; step <= 4; step++) await setJob(job.id, `status = 'RUNNING', progress_step = ${step}`);
      await setJob(job.id, `status = 'SUCCEEDED', frames_done = 2`);
      await sub.done;
      const states = sub.messages.map((m) => m.data.jobUpdated);
      expect(states.at(-1)).toMatchObject({ status: 'SUCCEEDED', progress: { step: 4, framesDone: 2 } });
      expect(states.length).toBeLessThanOrEqual(6);
      const steps = states.map((s) => s.progress.step);
      expect(steps).toEqual([...steps].sort((x, y) => x - y));
    });

    it("answers NOT_FOUND for another project's job", async () => {
      const job = await insertJob(storyA);
      const sub = new Subscription(connect({ apiKey: keyB }).client, JOB_SUBSCRIPTION, { id: job.globalId });
      const first = await sub.next();
      expect(first.errors?.map((e) => [e.extensions?.code, e.extensions?.field])).toEqual([['NOT_FOUND', 'jobId']]);
      await sub.done;
      await setJob(job.id, `status = 'RUNNING'`);
      const own = new Subscription(connect({ apiKey: keyA }).client, JOB_SUBSCRIPTION, { id: job.globalId });
      expect((await own.next()).data.jobUpdated.status).toBe('RUNNING');
      expect(sub.messages).toEqual([first]);
    });
  });

  describe('tenant isolation', () => {
    it("answers NOT_FOUND for another project's story and never sends it an event", async () => {
      const c = connect({ apiKey: keyB });
      await c.connected; // an open socket watches its key (revocation)
      const watchersBefore = api.server.services.live.hub.size;
      const sub = new Subscription(c.client, STORY_SUBSCRIPTION, { id: storyA });
      const first = await sub.next();
      expect(first.data ?? null).toBeNull();
      expect(first.errors?.map((e) => [e.extensions?.code, e.extensions?.field])).toEqual([['NOT_FOUND', 'storyId']]);
      expect(JSON.stringify(first)).not.toMatch(/Alpha/);
      await sub.done;
      expect(api.server.services.live.hub.size).toBe(watchersBefore);

      await publishStory(projectA, storyA);
      // A subscriber of A on the same story hears the next event; B's subscription stays as it was.
      const own = new Subscription(connect({ apiKey: keyA }).client, STORY_SUBSCRIPTION, { id: storyA });
      await own.next();
      await publishStory(projectA, storyA);
      await own.next();
      expect(sub.messages).toEqual([first]);
    });

    it('answers NOT_FOUND for an id of another type, BAD_USER_INPUT for a malformed one', async () => {
      const c = connect({ apiKey: keyA });
      const project = Buffer.from(`Project:${projectA}`).toString('base64');
      const wrongType = new Subscription(c.client, STORY_SUBSCRIPTION, { id: project });
      expect((await wrongType.next()).errors?.[0].extensions?.code).toBe('NOT_FOUND');
      const malformed = new Subscription(c.client, STORY_SUBSCRIPTION, { id: 'nope' });
      expect((await malformed.next()).errors?.[0].extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'storyId' });
    });
  });
});
