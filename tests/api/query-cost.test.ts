/**
 * Query cost calibrated on what studios ask: the natural queries pass at the default limit and
 * page sizes, the abusive ones are refused before anything runs (BAD_USER_INPUT, 400).
 */
import { TestApi, startTestApi } from '../support/api-harness';

const NATURAL: [string, string][] = [
  ['every story with its frames and their render history, default pages',
    `{ stories { edges { node { id title frames { edges { node { id prompt renders { edges { node { id seed url } } } } } } } } } }`],
  ['a story with its frames, their current renders, pictures and cast',
    `query($id: ID!) { node(id: $id) { ... on Story { title characters { name } frames(first: 100) { pageInfo { hasNextPage endCursor }
      edges { node { id position prompt caption characters { name } currentRender { id url(variant: WEBP) image { width height }
      thumbnail { width height } } } } } } } }`],
  ['a frame with its render history and each render\'s job',
    `query($id: ID!) { node(id: $id) { ... on Frame { renders(first: 100) { edges { node { id seed model url job { id status } } } } } } }`],
  ['jobs with their renders, and webhooks with their deliveries',
    `{ jobs(first: 20) { edges { node { id status progress { step total } renders { id url } } } }
      webhooks { edges { node { url deliveries(first: 50) { edges { node { event httpStatus } } } } } } }`],
  ['the models form', `{ models { id sizes { sizes { width height } } schedulers csa { layers } } }`],
];

const ABUSIVE: [string, string][] = [
  ['three nested pages of 100', `{ stories(first: 100) { edges { node { frames(first: 100) { edges { node { renders(first: 100) { edges { node { id } } } } } } } } } }`],
  ['every frame of 100 stories with its current render', `{ stories(first: 100) { edges { node { frames(first: 100) { edges { node { id currentRender { id } } } } } } } }`],
  ['100 jobs with all their renders\' frames', `{ jobs(first: 100) { edges { node { renders { frame { id } } } } } }`],
];

describe('query cost', () => {
  let api: TestApi;
  let key: string;

  beforeAll(async () => {
    api = await startTestApi();
    key = (await api.createProject('Costs')).secret;
  });
  afterAll(() => api.close());

  it.each(NATURAL)('lets through: %s', async (_name, query) => {
    const r = await api.gql(query, { id: 'U3Rvcnk6MDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAw' }, key);
    expect(r.errors?.filter((e) => /query cost/.test(e.message)) ?? []).toEqual([]);
    expect(r.status).toBe(200);
  });

  it.each(ABUSIVE)('refuses before running: %s', async (_name, query) => {
    const r = await api.gql(query, {}, key);
    expect(r.status).toBe(400);
    expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(r.errors?.[0]?.message).toMatch(/^query cost \d+ is over the limit of 10000; ask for smaller pages$/);
  });
});
