import { TestApi, onlyError, startTestApi } from '../support/api-harness';
import { createCharacter, createStory } from '../support/fixtures';

async function walk(api: TestApi, key: string, query: string, vars: Record<string, unknown>, pick: (data: any) => any) {
  const pages: string[][] = [];
  let after: string | null = null;
  for (let guard = 0; guard < 20; guard++) {
    const r = await api.gql(query, { ...vars, after }, key);
    if (r.errors) throw new Error(JSON.stringify(r.errors));
    const connection = pick(r.data);
    pages.push(connection.edges.map((e: any) => e.node.name ?? e.node.prompt ?? e.node.title));
    expect(connection.pageInfo.hasPreviousPage).toBe(after !== null);
    if (!connection.pageInfo.hasNextPage) return pages;
    expect(connection.pageInfo.endCursor).toBe(connection.edges[connection.edges.length - 1].cursor);
    after = connection.pageInfo.endCursor;
  }
  throw new Error('pagination did not end');
}

describe('cursor pagination', () => {
  let api: TestApi;
  let key: string;

  beforeAll(async () => {
    api = await startTestApi();
    key = (await api.createProject('Pages')).secret;
    for (let i = 1; i <= 45; i++) await createCharacter(api, key, `Hero ${String(i).padStart(2, '0')}`);
  });
  afterAll(() => api.close());

  it('walks characters oldest first, without gaps or repeats', async () => {
    const pages = await walk(api, key,
      `query($after: String) { characters(first: 20, after: $after) { edges { cursor node { name } } pageInfo { hasNextPage hasPreviousPage endCursor } } }`,
      {}, (d) => d.characters);
    expect(pages.map((p) => p.length)).toEqual([20, 20, 5]);
    expect(pages.flat()).toEqual(Array.from({ length: 45 }, (_, i) => `Hero ${String(i + 1).padStart(2, '0')}`));
  });

  it('filters with search and pages through the matches', async () => {
    const pages = await walk(api, key,
      `query($after: String, $s: String) { characters(first: 3, after: $after, search: $s) { edges { cursor node { name } } pageInfo { hasNextPage hasPreviousPage endCursor } } }`,
      { s: 'hero 1' }, (d) => d.characters);
    expect(pages.flat()).toEqual(['Hero 10', 'Hero 11', 'Hero 12', 'Hero 13', 'Hero 14', 'Hero 15', 'Hero 16', 'Hero 17', 'Hero 18', 'Hero 19']);
    const literal = await api.gql(`{ characters(search: "%") { edges { node { name } } } }`, {}, key);
    expect(literal.data.characters.edges).toEqual([]);
  });

  it('walks frames in story order, and stories', async () => {
    const script = Array.from({ length: 25 }, (_, i) => `frame ${i + 1}`).join('\n');
    const story = await createStory(api, key, { title: 'Paged', script });
    await createStory(api, key, { title: 'Second' });
    const pages = await walk(api, key,
      `query($id: ID!, $after: String) { node(id: $id) { ... on Story { frames(first: 10, after: $after) { edges { cursor node { prompt } } pageInfo { hasNextPage hasPreviousPage endCursor } } } } }`,
      { id: story.id }, (d) => d.node.frames);
    expect(pages.map((p) => p.length)).toEqual([10, 10, 5]);
    expect(pages.flat()).toEqual(Array.from({ length: 25 }, (_, i) => `frame ${i + 1}`));
    const stories = await walk(api, key,
      `query($after: String) { stories(first: 1, after: $after) { edges { cursor node { title } } pageInfo { hasNextPage hasPreviousPage endCursor } } }`,
      {}, (d) => d.stories);
    expect(stories).toEqual([['Paged'], ['Second']]);
  });

  it('walks stories newest first when asked, searched by title, and reads on from a cursor in either order', async () => {
    for (const title of ['N1', 'N2', 'N3', 'N4', 'N5']) await createStory(api, key, { title });
    const query = `query($after: String, $order: ListOrder) { stories(first: 2, after: $after, order: $order) { edges { cursor node { title } } pageInfo { hasNextPage hasPreviousPage endCursor } } }`;
    const newest = await walk(api, key, query, { order: 'NEWEST_FIRST' }, (d) => d.stories);
    expect(newest.map((p) => p.length)).toEqual([2, 2, 2, 1]);
    const oldest = (await walk(api, key, query, { order: 'OLDEST_FIRST' }, (d) => d.stories)).flat();
    expect(newest.flat()).toEqual([...oldest].reverse());
    expect(newest.flat().slice(0, 5)).toEqual(['N5', 'N4', 'N3', 'N2', 'N1']);

    // The cursor of N4: newest first reads on with N3, oldest first with N5.
    const first = await api.gql(query, { order: 'NEWEST_FIRST' }, key);
    const n4 = first.data.stories.edges[1].cursor;
    const after = async (order: string) => (await api.gql(query, { order, after: n4 }, key)).data.stories.edges.map((e: any) => e.node.title);
    expect(await after('NEWEST_FIRST')).toEqual(['N3', 'N2']);
    expect(await after('OLDEST_FIRST')).toEqual(['N5']);

    // Searched by title, case-insensitively, the text taken literally, in either order, page by page.
    const search = `query($after: String, $s: String, $order: ListOrder) { stories(first: 2, after: $after, search: $s, order: $order) { edges { cursor node { title } } pageInfo { hasNextPage hasPreviousPage endCursor } } }`;
    expect((await walk(api, key, search, { s: 'n3' }, (d) => d.stories)).flat()).toEqual(['N3']);
    expect((await walk(api, key, search, { s: 'N', order: 'NEWEST_FIRST' }, (d) => d.stories)).flat()).toEqual(['N5', 'N4', 'N3', 'N2', 'N1', 'Second']);
    expect((await walk(api, key, search, { s: '_' }, (d) => d.stories)).flat()).toEqual([]);

    const bad = await api.gql(`{ stories(order: SIDEWAYS) { edges { cursor } } }`, {}, key);
    expect(bad.status).toBe(400);
    expect(onlyError(bad).extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('answers an empty page for first: 0 and refuses a cursor of another list', async () => {
    const empty = await api.gql(`{ characters(first: 0) { edges { cursor } pageInfo { hasNextPage } } }`, {}, key);
    expect(empty.data.characters).toEqual({ edges: [], pageInfo: { hasNextPage: true } });
    const frameCursor = Buffer.from('p:3').toString('base64url');
    expect(onlyError(await api.gql(`query($a: String) { characters(after: $a) { edges { cursor } } }`, { a: frameCursor }, key)).extensions?.code)
      .toBe('BAD_USER_INPUT');
  });
});
