import {
  GraphQLField, GraphQLInputType, getNullableType, isEnumType, isInputObjectType, isListType, isNonNullType,
} from 'graphql';
import { buildSchema } from '../../src/api/schema';
import { TestApi, onlyError, startTestApi } from '../support/api-harness';
import { contentSnapshot, createStory, decodeId } from '../support/fixtures';
import { Subscription, WsConnection, connectWs } from '../support/ws-client';

type Needs = 'platform' | 'admin' | 'editor';
const RANK = { viewer: 1, editor: 2, admin: 3 } as const;

/** What a mutation needs, as its description in schema/ tells clients; the rest are editors'. */
function needs(field: GraphQLField<unknown, unknown>): Needs {
  if (field.description?.startsWith('Platform key only')) return 'platform';
  if (field.description?.startsWith('Admins only')) return 'admin';
  return 'editor';
}

/**
 * A value the type accepts. IDs are malformed on purpose: the role is checked before any argument
 * is read, so a refused key must see FORBIDDEN, never BAD_USER_INPUT about its arguments.
 */
function sample(type: GraphQLInputType): unknown {
  if (isNonNullType(type)) return sample(type.ofType);
  if (isListType(type)) return [sample(type.ofType)];
  if (isEnumType(type)) return type.getValues()[0].name;
  if (isInputObjectType(type)) {
    return Object.fromEntries(Object.values(type.getFields()).filter((f) => isNonNullType(f.type)).map((f) => [f.name, sample(f.type)]));
  }
  return ({ ID: 'not-an-id', Int: 1, Float: 1, Boolean: true } as Record<string, unknown>)[type.name] ?? 'x';
}

/** Every Mutation field, called with its required arguments. */
const MUTATIONS = Object.values(buildSchema().getMutationType()!.getFields()).map((field) => {
  const args = field.args.filter((a) => isNonNullType(a.type));
  const declared = args.map((a) => `$${a.name}: ${String(a.type)}`).join(', ');
  const passed = args.map((a) => `${a.name}: $${a.name}`).join(', ');
  const selection = 'getFields' in getNullableType(field.type) ? ' { __typename }' : '';
  return {
    name: field.name,
    needs: needs(field),
    query: `mutation${declared ? `(${declared})` : ''} { ${field.name}${passed ? `(${passed})` : ''}${selection} }`,
    variables: Object.fromEntries(args.map((a) => [a.name, sample(a.type)])),
  };
});

/**
 * The mutation helper (src/api/resolvers/mutation.ts) against the real server: the role every
 * mutation needs, checked first and with the same code; the request's loaders refreshed after
 * the write; and the write's change notification reaching subscribers.
 */
describe('mutations', () => {
  let api: TestApi;
  let admin: string;
  let editor: string;
  let viewer: string;
  let projectId: string;
  const open: WsConnection[] = [];

  beforeAll(async () => {
    api = await startTestApi();
    ({ secret: admin, projectId } = await api.createProject('Mutations'));
    const key = async (role: string) =>
      (await api.gql(`mutation($role: Role!) { createApiKey(input: { name: "k", role: $role }) { secret } }`, { role }, admin)).data.createApiKey.secret as string;
    editor = await key('EDITOR');
    viewer = await key('VIEWER');
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.dispose()));
  });
  afterAll(() => api.close());

  it('finds the mutations in the schema', () => {
    expect(MUTATIONS.length).toBeGreaterThan(20);
    expect(MUTATIONS.filter((m) => m.needs === 'admin').length).toBeGreaterThan(0);
  });

  it('refuses every mutation to a viewer key (FORBIDDEN) and to no key (UNAUTHENTICATED), writing nothing', async () => {
    // The key's first use records it (last_used_at): taken before the snapshot, as no mutation's doing.
    await api.gql(`{ viewer { role } }`, {}, viewer);
    const before = await contentSnapshot(api.db.owner, decodeId(projectId));
    const codes = async (key?: string) => {
      const answered: Record<string, string | undefined> = {};
      for (const m of MUTATIONS) answered[m.name] = onlyError(await api.gql(m.query, m.variables, key)).extensions?.code;
      return answered;
    };
    expect(await codes(viewer)).toEqual(Object.fromEntries(MUTATIONS.map((m) => [m.name, 'FORBIDDEN'])));
    expect(await codes()).toEqual(Object.fromEntries(MUTATIONS.map((m) => [m.name, 'UNAUTHENTICATED'])));
    expect(await contentSnapshot(api.db.owner, decodeId(projectId))).toBe(before);
  });

  it('lets each key past the role check exactly where its role suffices', async () => {
    for (const [role, key] of [['editor', editor], ['admin', admin]] as const) {
      for (const m of MUTATIONS) {
        const code = (await api.gql(m.query, m.variables, key)).errors?.[0]?.extensions?.code;
        const allowed = m.needs !== 'platform' && RANK[role] >= RANK[m.needs];
        expect({ mutation: m.name, role, refused: code === 'FORBIDDEN' }).toEqual({ mutation: m.name, role, refused: !allowed });
      }
    }
  });

  it('reads the state each write left: later mutations of one operation see the earlier ones', async () => {
    const story = await createStory(api, editor, { title: 'Twice', script: 'a' });
    const r = await api.gql(`mutation($id: ID!) {
        first: addFrames(storyId: $id, script: "b") { story { frameCount } }
        second: addFrames(storyId: $id, script: "c") { story { frameCount } frames { position } }
        renamed: updateStory(id: $id, input: { title: "Twice, renamed" }) { title frameCount } }`, { id: story.id }, editor);
    expect(r.errors).toBeUndefined();
    expect(r.data).toEqual({
      first: { story: { frameCount: 2 } },
      second: { story: { frameCount: 3 }, frames: [{ position: 3 }] },
      renamed: { title: 'Twice, renamed', frameCount: 3 },
    });
  });

  it("notifies subscribers of an editor's committed mutations, and not of a refused one", async () => {
    const story = await createStory(api, editor, { title: 'Watched', script: 'a' });
    const connection = connectWs(api.url, { apiKey: viewer });
    open.push(connection);
    const sub = new Subscription(connection.client, `subscription($id: ID!) { storyUpdated(storyId: $id) { title frameCount } }`, { id: story.id });
    expect((await sub.next()).data.storyUpdated).toEqual({ title: 'Watched', frameCount: 1 });

    await api.gql(`mutation($id: ID!) { updateStory(id: $id, input: { title: "Watched twice" }) { id } }`, { id: story.id }, editor);
    expect((await sub.next()).data.storyUpdated).toEqual({ title: 'Watched twice', frameCount: 1 });

    const refused = await api.gql(`mutation($id: ID!) { addFrames(storyId: $id, script: "b") { story { id } } }`, { id: story.id }, viewer);
    expect(onlyError(refused).extensions?.code).toBe('FORBIDDEN');
    await api.gql(`mutation($id: ID!) { addFrames(storyId: $id, script: "c") { story { id } } }`, { id: story.id }, editor);
    // The next state heard is the editor's: the refused call changed and announced nothing.
    expect((await sub.next()).data.storyUpdated).toEqual({ title: 'Watched twice', frameCount: 2 });
    sub.stop();
  });
});
