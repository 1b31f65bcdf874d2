import { TestApi, startTestApi } from '../support/api-harness';
import { createCharacter, createStory, insertCurrentRender } from '../support/fixtures';

const STORY_QUERY = `query($id: ID!) { node(id: $id) { ... on Story {
  id title characters { id name }
  frames(first: 50) { edges { node {
    id position prompt caption noCharacter characters { id name }
    currentRender { id seed image { id width height } }
  } } }
} } }`;

/** Statements that scope or end the request's transaction, and the key lookup; the rest load data. */
const OVERHEAD = [/^START TRANSACTION|^BEGIN/i, /^COMMIT/i, /set_config\(\$1, \$2, true\)/, /FROM api_keys WHERE key_hash/];

describe('DataLoader batching', () => {
  let api: TestApi;
  let key: string;

  beforeAll(async () => {
    api = await startTestApi();
    key = (await api.createProject('Counted')).secret;
  });
  afterAll(() => api.close());

  let stories = 0;
  async function storyWith(frames: number) {
    const cast: { id: string; name: string }[] = [];
    stories++;
    for (const name of ['Ann', 'Bo', 'Cy']) cast.push(await createCharacter(api, key, `${name}${stories}`));
    const lines = Array.from({ length: frames }, (_, i) =>
      i % 5 === 0 ? `[NC] scenery ${i}` : i % 3 === 0 ? `[${cast[i % 3].name}] alone ${i} #caption ${i}` : `everyone ${i}`);
    const story = await createStory(api, key, { title: `${frames} frames`, characterIds: cast.map((c) => c.id), script: lines.join('\n') });
    for (const edge of story.frames.edges) await insertCurrentRender(api.db.owner, edge.node.id);
    return story.id;
  }

  async function countStatements(storyId: string) {
    api.db.stats.recorded = [];
    const result = await api.gql(STORY_QUERY, { id: storyId }, key);
    const statements = api.db.stats.recorded;
    api.db.stats.recorded = null;
    if (result.errors) throw new Error(JSON.stringify(result.errors));
    const data = statements.filter((sql) => !OVERHEAD.some((re) => re.test(sql.trim())));
    return { result, total: statements.length, data };
  }

  it('resolves a 50-frame story with 3 characters and current renders in at most 6 data statements', async () => {
    const id = await storyWith(50);
    const { result, total, data } = await countStatements(id);

    const frames = result.data.node.frames.edges.map((e: any) => e.node);
    expect(frames).toHaveLength(50);
    expect(result.data.node.characters.map((c: any) => c.name)).toEqual(['Ann1', 'Bo1', 'Cy1']);
    expect(frames.every((f: any) => f.currentRender?.image?.width === 64)).toBe(true);
    expect(frames[0]).toMatchObject({ noCharacter: true, characters: [] });
    expect(frames[3].characters.map((c: any) => c.name)).toEqual(['Ann1']);
    expect(frames[1].characters).toHaveLength(3);

    // story, frames page, cast (+ characters), current renders, images
    expect(data.length).toBeLessThanOrEqual(6);
    expect(data.length).toBe(5);
    // + key lookup, BEGIN, tenant scope, COMMIT
    expect(total).toBe(data.length + 4);
  });

  it('uses the same number of statements for 5 frames as for 50', async () => {
    const small = await countStatements(await storyWith(5));
    const large = await countStatements(await storyWith(50));
    expect(small.result.data.node.frames.edges).toHaveLength(5);
    expect(large.total).toBe(small.total);
  });
});
