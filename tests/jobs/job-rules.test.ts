/**
 * Rules of starting and cancelling jobs, with no workers (jobs stay queued): limits, validation,
 * cancellation, and the queue entry committing or rolling back with the request.
 */
import { withTenant } from '../../src/db/tenant-session';
import { GenerationApi, JOB_FIELDS, startGenerationApi } from '../support/generation-harness';
import { createCharacter, createStory, decodeId, tableCounts } from '../support/fixtures';

describe('job rules', () => {
  let api: GenerationApi;
  let key: string;
  let projectId: string;
  let story: Awaited<ReturnType<typeof createStory>>;
  let other: Awaited<ReturnType<typeof createStory>>;
  const queued = async () => (await api.db.owner.query(`SELECT count(*)::int AS n FROM pgboss.job WHERE name LIKE 'generate.%'`)).rows[0].n as number;

  beforeAll(async () => {
    api = await startGenerationApi({ workers: 0, maxActiveJobs: 2 });
    const project = await api.createProject('Rules');
    key = project.secret;
    projectId = decodeId(project.projectId);
    const hero = await createCharacter(api, key, 'Hero');
    story = await createStory(api, key, { title: 'S', characterIds: [hero.id], script: 'one\ntwo' });
    other = await createStory(api, key, { title: 'Other', script: 'elsewhere' });
  });
  afterAll(() => api?.close());

  it.each([
    ['an empty frameIds list', `mutation($s: ID!) { generateStory(storyId: $s, frameIds: []) { job { id } } }`, () => ({ s: story.id }), 'BAD_USER_INPUT', 'frameIds'],
    ["another story's frame", `mutation($s: ID!, $f: ID!) { generateStory(storyId: $s, frameIds: [$f]) { job { id } } }`, () => ({ s: story.id, f: other.frames.edges[0].node.id }), 'NOT_FOUND', 'frameIds'],
    ['a negative seed', `mutation($f: ID!) { regenerateFrame(frameId: $f, seed: -1) { job { id } } }`, () => ({ f: story.frames.edges[0].node.id }), 'BAD_USER_INPUT', 'seed'],
    ['an empty prompt', `mutation($f: ID!) { regenerateFrame(frameId: $f, prompt: "  ") { job { id } } }`, () => ({ f: story.frames.edges[0].node.id }), 'BAD_USER_INPUT', 'prompt'],
    ['a story id as frame id', `mutation($f: ID!) { regenerateFrame(frameId: $f) { job { id } } }`, () => ({ f: story.id }), 'NOT_FOUND', 'frameId'],
    ['a too long Idempotency-Key', `mutation($s: ID!) { generateStory(storyId: $s) { job { id } } }`, () => ({ s: story.id }), 'BAD_USER_INPUT', 'Idempotency-Key'],
  ])('refuses %s with a stable code and writes nothing', async (name, query, variables, code, field) => {
    const before = await tableCounts(api.db.owner);
    const entries = await queued();
    const headers: Record<string, string> = name === 'a too long Idempotency-Key' ? { 'idempotency-key': 'k'.repeat(201) } : {};
    const r = await api.gqlWith(headers, query, variables(), key);
    expect(r.errors?.map((e) => [e.extensions?.code, e.extensions?.field])).toEqual([[code, field]]);
    expect(await tableCounts(api.db.owner)).toEqual(before);
    expect(await queued()).toBe(entries);
  });

  it("refuses an anchor on a model pack that is not installed", async () => {
    const stranger = await createCharacter(api, key, 'Stranger');
    const r = await api.gql(`mutation($c: ID!) { buildCharacterAnchor(characterId: $c, model: "no-such-pack") { job { id } } }`, { c: stranger.id }, key);
    expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'UNKNOWN_MODEL', field: 'model' });
    expect(r.errors?.[0]?.message).toMatch(/no-such-pack.*not installed.*story-world/);
  });

  it('commits the queue entry with the request, and rolls it back with it', async () => {
    const { rows: [apiKey] } = await api.db.owner.query(`SELECT id FROM api_keys WHERE project_id = $1 LIMIT 1`, [projectId]);
    const actor = { projectId, keyId: apiKey.id as string, role: 'editor' as const };
    const entries = await queued();
    const jobs = await tableCounts(api.db.owner);
    await expect(withTenant(api.db.dataSource, projectId, async (session) => {
      await api.server.services.jobs.generateStory(session, actor, decodeId(story.id), null);
      throw new Error('the request failed after the job was queued');
    })).rejects.toThrow('the request failed');
    expect(await queued()).toBe(entries);
    expect(await tableCounts(api.db.owner)).toEqual(jobs);
    const job = await withTenant(api.db.dataSource, projectId, (session) => api.server.services.jobs.generateStory(session, actor, decodeId(story.id), null));
    expect(await queued()).toBe(entries + 1);
    const { rows } = await api.db.owner.query(`SELECT data FROM pgboss.job WHERE id = $1`, [job.queueJobId]);
    expect(rows).toEqual([{ data: { jobId: job.id, projectId } }]);
  });

  it('cancels a queued job (and its queue entry); a finished job cannot be cancelled', async () => {
    const started = await api.gql(`mutation($s: ID!) { generateStory(storyId: $s) { job { id } } }`, { s: story.id }, key);
    const jobId = started.data.generateStory.job.id;
    const cancelled = await api.gql(`mutation($id: ID!) { cancelJob(id: $id) { job { ${JOB_FIELDS} finishedAt } } }`, { id: jobId }, key);
    expect(cancelled.data.cancelJob.job).toMatchObject({ status: 'CANCELLED' });
    expect(cancelled.data.cancelJob.job.finishedAt).not.toBeNull();
    const { rows } = await api.db.owner.query(
      `SELECT q.state FROM pgboss.job q JOIN generation_jobs g ON g.queue_job_id = q.id WHERE g.id = $1`, [decodeId(jobId)]);
    expect(rows).toEqual([{ state: 'cancelled' }]);
    const again = await api.gql(`mutation($id: ID!) { cancelJob(id: $id) { job { id } } }`, { id: jobId }, key);
    expect(again.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', field: 'id' });
  });

  it('answers RATE_LIMITED with a retry hint past the per-project limit of queued and running jobs', async () => {
    await api.db.owner.query(`UPDATE generation_jobs SET status = 'SUCCEEDED' WHERE status IN ('QUEUED', 'RUNNING')`);
    const start = (headers: Record<string, string> = {}) =>
      api.gqlWith(headers, `mutation($s: ID!) { generateStory(storyId: $s) { job { id status } } }`, { s: story.id }, key);
    const first = await start({ 'idempotency-key': 'at-limit' });
    expect(first.data.generateStory.job.status).toBe('QUEUED');
    expect((await start()).data.generateStory.job.status).toBe('QUEUED');
    const before = await tableCounts(api.db.owner);
    const limited = await start();
    expect(limited.errors?.[0]?.extensions).toEqual({ code: 'RATE_LIMITED', retryAfterSeconds: 30 });
    expect(limited.data?.generateStory ?? null).toBeNull();
    expect(await tableCounts(api.db.owner)).toEqual(before);
    // A retry of a request that already made its job is answered even at the limit.
    const retried = await start({ 'idempotency-key': 'at-limit' });
    expect(retried.data.generateStory.job.id).toBe(first.data.generateStory.job.id);
  });

  it('lists jobs newest first when asked, also among those of one status', async () => {
    const list = async (args: string) => (await api.gql(`{ jobs(first: 100${args}) { edges { node { id status } } } }`, {}, key)).data.jobs.edges.map((e: any) => e.node);
    const oldest = await list('');
    expect(oldest.length).toBeGreaterThanOrEqual(3);
    expect(await list(', order: NEWEST_FIRST')).toEqual([...oldest].reverse());
    const succeeded = oldest.filter((j: any) => j.status === 'SUCCEEDED');
    expect(succeeded.length).toBeGreaterThanOrEqual(1);
    expect(await list(', status: SUCCEEDED, order: NEWEST_FIRST')).toEqual([...succeeded].reverse());
  });
});
