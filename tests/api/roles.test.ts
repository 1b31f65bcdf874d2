import { createHash } from 'node:crypto';
import { TestApi, onlyError, startTestApi } from '../support/api-harness';

const VIEWER = `{ viewer { role project { name } apiKey { name } } }`;
const CREATE_KEY = `mutation($name: String!, $role: Role!) { createApiKey(input: { name: $name, role: $role }) { apiKey { id role prefix } secret } }`;
const CREATE_CHARACTER = `mutation($name: String!) { createCharacter(input: { name: $name, description: "a knight" }) { id name } }`;

describe('auth and roles', () => {
  let api: TestApi;
  let admin: string;
  let editor: string;
  let viewer: string;

  beforeAll(async () => {
    api = await startTestApi();
    admin = (await api.createProject('Studio')).secret;
    const key = async (role: string) => (await api.gql(CREATE_KEY, { name: role, role }, admin)).data.createApiKey.secret as string;
    editor = await key('EDITOR');
    viewer = await key('VIEWER');
  });
  afterAll(() => api.close());

  it('lets the platform key create a project and returns its first admin key once', async () => {
    const r = await api.gql(`mutation { createProject(input: { name: "Other" }) { project { id name } apiKey { role prefix } secret } }`,
      {}, api.platformKey);
    expect(r.errors).toBeUndefined();
    expect(r.data.createProject).toMatchObject({ project: { name: 'Other' }, apiKey: { role: 'ADMIN' } });
    const secret = r.data.createProject.secret as string;
    expect(secret).toMatch(/^sfk_/);
    expect(secret.startsWith(r.data.createProject.apiKey.prefix)).toBe(true);
    const me = await api.gql(VIEWER, {}, secret);
    expect(me.data.viewer).toEqual({ role: 'ADMIN', project: { name: 'Other' }, apiKey: { name: 'admin' } });
  });

  it('refuses createProject to project keys and to anonymous callers', async () => {
    expect(onlyError(await api.gql(`mutation { createProject(input: { name: "x" }) { secret } }`, {}, admin)).extensions?.code).toBe('FORBIDDEN');
    expect(onlyError(await api.gql(`mutation { createProject(input: { name: "x" }) { secret } }`)).extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('answers UNAUTHENTICATED without a key, with a bad key, and with a malformed header', async () => {
    expect(onlyError(await api.gql(VIEWER)).extensions?.code).toBe('UNAUTHENTICATED');
    const bad = await api.gql(VIEWER, {}, 'sfk_not-a-real-key');
    expect(bad.status).toBe(401);
    expect(onlyError(bad).extensions?.code).toBe('UNAUTHENTICATED');
    const response = await fetch(api.url, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Basic abc' },
      body: JSON.stringify({ query: VIEWER }),
    });
    expect(response.status).toBe(401);
  });

  it('lets the platform key do nothing inside projects', async () => {
    expect(onlyError(await api.gql(VIEWER, {}, api.platformKey)).extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('gives viewers read access only', async () => {
    expect((await api.gql(VIEWER, {}, viewer)).data.viewer.role).toBe('VIEWER');
    expect((await api.gql(`{ characters { edges { node { id } } } }`, {}, viewer)).errors).toBeUndefined();
    const denied = onlyError(await api.gql(CREATE_CHARACTER, { name: 'Nope' }, viewer));
    expect(denied.extensions?.code).toBe('FORBIDDEN');
    const { rows } = await api.db.owner.query(`SELECT count(*)::int AS n FROM characters`);
    expect(rows[0].n).toBe(0);
  });

  it('lets editors write content but not manage keys', async () => {
    expect((await api.gql(CREATE_CHARACTER, { name: 'Ada' }, editor)).data.createCharacter.name).toBe('Ada');
    expect(onlyError(await api.gql(CREATE_KEY, { name: 'x', role: 'ADMIN' }, editor)).extensions?.code).toBe('FORBIDDEN');
    expect(onlyError(await api.gql(`{ apiKeys { edges { node { id } } } }`, {}, editor)).extensions?.code).toBe('FORBIDDEN');
  });

  it('stores keys only as hashes', async () => {
    const r = await api.gql(CREATE_KEY, { name: 'hashed', role: 'VIEWER' }, admin);
    const secret = r.data.createApiKey.secret as string;
    const { rows } = await api.db.owner.query(`SELECT to_jsonb(k)::text AS row, key_hash FROM api_keys k WHERE name = 'hashed'`);
    expect(rows[0].key_hash).toBe(createHash('sha256').update(secret).digest('hex'));
    expect(rows[0].row).not.toContain(secret);
    expect(rows[0].row).not.toContain(secret.slice(12)); // only the displayed prefix is kept in clear
  });

  it('revokes keys (admin only), records last use, and lists keys to admins', async () => {
    const created = await api.gql(CREATE_KEY, { name: 'temp', role: 'EDITOR' }, admin);
    const { id } = created.data.createApiKey.apiKey;
    const secret = created.data.createApiKey.secret;
    expect((await api.gql(VIEWER, {}, secret)).data.viewer.role).toBe('EDITOR');

    const listed = await api.gql(`{ apiKeys(first: 50) { edges { node { id name lastUsedAt revokedAt } } } }`, {}, admin);
    const temp = listed.data.apiKeys.edges.map((e: any) => e.node).find((k: any) => k.id === id);
    expect(temp.lastUsedAt).not.toBeNull();
    expect(temp.revokedAt).toBeNull();

    expect(onlyError(await api.gql(`mutation($id: ID!) { revokeApiKey(id: $id) { id } }`, { id }, editor)).extensions?.code).toBe('FORBIDDEN');
    const revoked = await api.gql(`mutation($id: ID!) { revokeApiKey(id: $id) { id revokedAt } }`, { id }, admin);
    expect(revoked.errors).toBeUndefined();
    expect(revoked.data.revokeApiKey.revokedAt).not.toBeNull();
    expect(onlyError(await api.gql(VIEWER, {}, secret)).extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('never writes a secret into the logs', async () => {
    const all = api.logs.join('\n');
    expect(api.logs.length).toBeGreaterThan(10);
    for (const secret of [admin, editor, viewer, api.platformKey]) expect(all).not.toContain(secret);
    expect(all).not.toMatch(/sf[kp]_[A-Za-z0-9_-]{20,}/);
  });
});
