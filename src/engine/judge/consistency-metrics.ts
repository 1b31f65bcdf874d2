/**
 * How consistent a story is, read by the judge: the metrics of models/story-world/judge.py,
 * on the judge's predictions (head -> class index, one record per frame).
 *
 * - identity agreement over all frame pairs: the share of identity heads predicted equal
 *   (averaged over pairs), and the share of pairs with every identity head equal;
 * - adherence: the share of frames whose action heads (pose and scene) are as asked, and
 *   the share whose action heads and every other asked head (named attributes) are.
 */
export type Prediction = Readonly<Record<string, number>>;

export function identityAgreement(preds: readonly Prediction[], identity: readonly string[]): { attributes: number; all: number } {
  let attributes = 0;
  let all = 0;
  let pairs = 0;
  for (let i = 0; i < preds.length; i++) {
    for (let j = i + 1; j < preds.length; j++) {
      const equal = identity.filter((k) => head(preds[i]!, k) === head(preds[j]!, k)).length;
      attributes += equal / identity.length;
      all += equal === identity.length ? 1 : 0;
      pairs++;
    }
  }
  if (pairs === 0) throw new RangeError('identity agreement needs at least two frames');
  return { attributes: attributes / pairs, all: all / pairs };
}

/**
 * @param asked per frame: head -> the label asked for (e.g. {pose: 'waving', scene: 'city', hair: 'red'})
 * @param labels head -> labels in class order (the judge spec)
 * @param actions the heads that make "pose and scene adherence"
 */
export function adherence(preds: readonly Prediction[], asked: readonly Readonly<Record<string, string>>[],
  labels: Readonly<Record<string, readonly string[]>>, actions: readonly string[] = ['pose', 'scene']): { actions: number; full: number } {
  if (preds.length !== asked.length || preds.length === 0) throw new RangeError(`adherence needs one request per frame (${preds.length} frames, ${asked.length} requests)`);
  let okActions = 0;
  let okFull = 0;
  preds.forEach((p, i) => {
    const label = (k: string) => {
      const names = labels[k];
      if (!names) throw new RangeError(`the judge has no head "${k}"`);
      return names[head(p, k)];
    };
    const a = asked[i]!;
    const actionsOk = actions.every((k) => label(k) === a[k]);
    const othersOk = Object.keys(a).filter((k) => !actions.includes(k)).every((k) => label(k) === a[k]);
    okActions += actionsOk ? 1 : 0;
    okFull += actionsOk && othersOk ? 1 : 0;
  });
  return { actions: okActions / preds.length, full: okFull / preds.length };
}

function head(p: Prediction, k: string): number {
  const v = p[k];
  if (v === undefined) throw new RangeError(`prediction has no head "${k}"`);
  return v;
}
