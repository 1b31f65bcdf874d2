const JSON_TYPE = 'application/json';
const GRAPHQL_RESPONSE_TYPE = 'application/graphql-response+json';

interface Match {
  q: number;
  /** 2: the type itself, 1: `application/*`, 0: `*\/*`. */
  specificity: number;
  order: number;
}

/**
 * True when the Accept header names application/json and Apollo will answer in it rather than in
 * application/graphql-response+json (higher quality; on a tie the more specific range, then the
 * earlier one, as Apollo's negotiation does). The GraphQL-over-HTTP spec asks a server to answer
 * such clients, written before application/graphql-response+json existed, with 200 and the errors
 * in the body even when the request failed to parse or validate. A missing Accept or a bare
 * wildcard is not such a client.
 */
export function namesLegacyJson(accept: string | undefined): boolean {
  if (!accept) return false;
  const ranges = accept.split(',').map((part, order) => {
    const [range, ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    const q = params.map((p) => /^q=([0-9.]+)$/.exec(p)).find(Boolean);
    return { range, q: q ? Number(q[1]) : 1, order };
  });
  const json = bestMatch(ranges, JSON_TYPE);
  if (!json || json.specificity < 2 || !(json.q > 0)) return false;
  const other = bestMatch(ranges, GRAPHQL_RESPONSE_TYPE);
  if (!other || !(other.q > 0)) return true;
  if (json.q !== other.q) return json.q > other.q;
  if (json.specificity !== other.specificity) return json.specificity > other.specificity;
  return json.order <= other.order;
}

function bestMatch(ranges: { range: string; q: number; order: number }[], type: string): Match | undefined {
  let best: Match | undefined;
  for (const { range, q, order } of ranges) {
    const specificity = range === type ? 2 : range === 'application/*' ? 1 : range === '*/*' ? 0 : -1;
    if (specificity >= 0 && (!best || specificity > best.specificity)) best = { q, specificity, order };
  }
  return best;
}
