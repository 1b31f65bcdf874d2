/**
 * A frame may only name members of its story's cast. A cast change (updateStory) and a frame edit
 * (updateFrame) of the same story, sent at the same moment, must not both pass their checks
 * against the other's old state: one waits for the other and then sees it.
 */
import { TestApi, startTestApi } from '../support/api-harness';
import { createCharacter, createStory, decodeId } from '../support/fixtures';

const TRIES = 40;

describe('cast change racing a frame edit', () => {
  let api: TestApi;
  let key: string;
  let robin: { id: string };
  let crow: { id: string };

  beforeAll(async () => {
    api = await startTestApi();
    key = (await api.createProject('Race')).secret;
    robin = await createCharacter(api, key, 'Robin');
    crow = await createCharacter(api, key, 'Crow');
  });
  afterAll(() => api.close());

  it(`never leaves a frame naming a character outside the cast (${TRIES} parallel tries)`, async () => {
    const outcomes = new Map<string, number>();
    for (let i = 0; i < TRIES; i++) {
      const story = await createStory(api, key, { title: `Race ${i}`, characterIds: [robin.id, crow.id], script: 'a walk' });
      const frameId = story.frames.edges[0]!.node.id;
      const [cast, frame] = await Promise.all([
        api.gql(`mutation($id: ID!, $c: [ID!]) { updateStory(id: $id, input: { characterIds: $c }) { id } }`, { id: story.id, c: [robin.id] }, key),
        api.gql(`mutation($id: ID!, $c: [ID!]) { updateFrame(id: $id, input: { characterIds: $c }) { id } }`, { id: frameId, c: [crow.id] }, key),
      ]);
      const { rows: orphans } = await api.db.owner.query(
        `SELECT f.id FROM frames f WHERE f.story_id = $1 AND f.character_ids IS NOT NULL
           AND NOT (f.character_ids <@ ARRAY(SELECT character_id FROM story_characters WHERE story_id = f.story_id))`,
        [decodeId(story.id)]);
      expect(orphans).toEqual([]);
      // Exactly one of the two wins; the other is refused with a stable code naming the input at fault.
      const failed = [cast, frame].filter((r) => r.errors);
      expect(failed).toHaveLength(1);
      const error = failed[0]!.errors![0]!;
      const outcome = `${failed[0] === cast ? 'updateStory' : 'updateFrame'}:${error.extensions?.code}:${error.extensions?.field}`;
      expect(['updateStory:CONFLICT:characterIds', 'updateFrame:BAD_USER_INPUT:characterIds']).toContain(outcome);
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
    expect([...outcomes.values()].reduce((a, b) => a + b, 0)).toBe(TRIES);
  });
});
