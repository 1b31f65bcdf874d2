/**
 * Identity as the pack's judge reads it: the label of each identity attribute (hair, skin,
 * shirt, ... as `manifest.judge.identity` lists them).
 */
import type { Judgement } from './compute/protocol';

/** Per identity head, the label most of the pictures show (ties: the lower label). */
export function majority(judged: readonly Judgement[], heads: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const head of heads) {
    const counts = new Map<number, number>();
    for (const j of judged) if (j[head] !== undefined) counts.set(j[head]!, (counts.get(j[head]!) ?? 0) + 1);
    const best = [...counts].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0];
    if (best) out[head] = best[0];
  }
  return out;
}

/** Share of identity heads on which two readings agree (NaN when they share none). */
export function agreement(a: Judgement, b: Judgement, heads: readonly string[]): number {
  const shared = heads.filter((h) => a[h] !== undefined && b[h] !== undefined);
  return shared.length === 0 ? NaN : shared.filter((h) => a[h] === b[h]).length / shared.length;
}

/** A render's consistency: mean agreement with each of its characters' identity frames. */
export function consistencyScore(render: Judgement | undefined, identities: readonly (Record<string, number> | null)[], heads: readonly string[]): number | null {
  if (!render || identities.length === 0 || heads.length === 0) return null;
  const scores = identities.filter((i): i is Record<string, number> => i !== null).map((i) => agreement(render, i, heads)).filter((s) => !Number.isNaN(s));
  return scores.length === 0 ? null : scores.reduce((x, y) => x + y, 0) / scores.length;
}
