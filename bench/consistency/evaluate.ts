/**
 * The consistency table, computed by the TypeScript engine with the pack's judge: the rows of
 * models/story-world/evaluate.py over the same stories (story-specs.ts), through the engine's
 * public API: render, buildBank, referenceBank.
 *
 * - named-none: prompts name all five attributes; no CSA. Identity columns: match with the character.
 * - none: identity left out of the prompts; no CSA. Identity columns: agreement over frame pairs.
 * - joint / first: buildBank over the first ID_FRAMES frames (identity frames written that
 *   way, then the bank from them), the other frames read it. Agreement over frame pairs.
 * - reference: referenceBank from the reference set's clean renders of the story's
 *   character; every frame reads it. Identity columns: match with the character.
 */
import { GenerationSettings, StoryEngine } from '../../src/engine/story-engine';
import type { IdentityBank } from '../../src/engine/story/identity-bank';
import { Float32Tensor, concatRows } from '../../src/engine/tensor';
import { ID_FRAMES, ReferenceSet, StorySpec, World, caption } from './story-specs';

export const ROWS = ['named-none', 'none', 'joint', 'first', 'reference'] as const;
export type Row = (typeof ROWS)[number];

/** The targets of the embedded-model issue, per row: the identity column that counts (all five) and pose+scene. */
export const TARGETS: Readonly<Record<Row, { identityAll: number | null; poseScene: number; full?: number }>> = {
  'named-none': { identityAll: null, poseScene: 0.9, full: 0.9 },
  none: { identityAll: null, poseScene: 0.9 },
  joint: { identityAll: 0.8, poseScene: 0.9 },
  first: { identityAll: 0.8, poseScene: 0.9 },
  reference: { identityAll: 0.8, poseScene: 0.9 },
};

export interface EvaluateOptions {
  steps: number;
  guidance: number;
  rate: number;
  /** Reference noise: share of each step's timestep. */
  fraction: number;
  /** Guidance of the first identity frame in the "first" row (the pack's csa.identity_guidance); unset: `guidance`. */
  identityGuidance?: number | null;
}

/** [identity per attribute, identity all five, pose+scene adherence, full adherence] */
export type Scores = [number, number, number, number];
export const COLUMNS = ['identity per attribute', 'identity all five', 'pose+scene', 'full'] as const;

export function parseRow(row: string): Row {
  if (!(ROWS as readonly string[]).includes(row)) throw new RangeError(`unknown row "${row}" (rows: ${ROWS.join(', ')})`);
  return row as Row;
}

export interface StoryRun {
  /** [frames, 3, H, W] in [-1, 1], in story order. */
  pixels: Float32Tensor;
  bank: IdentityBank | null;
}

export async function generateStory(engine: StoryEngine, world: World, refs: ReferenceSet, story: StorySpec, row: Row, o: EvaluateOptions): Promise<StoryRun> {
  const settings: GenerationSettings = { scheduler: 'ddim', steps: o.steps, guidance: o.guidance };
  const identity = refs.identities[story.reference]!;
  const prompts = story.frames.map((f) => caption(world, identity, row === 'named-none', f.pose, f.scene));
  const requests = (from: number, banks: IdentityBank[]) => story.frames.slice(from).map((f, i) => ({ prompt: prompts[from + i]!, negativePrompt: '', seed: f.seed, banks }));
  if (row === 'none' || row === 'named-none') {
    return { pixels: concatRows((await engine.render(requests(0, []), settings)).pixels), bank: null };
  }
  if (row === 'reference') {
    const bank = await engine.referenceBank({
      pictures: refs.pictures(story.reference), prompts: refs.actions[story.reference]!.map(([pose, scene]) => caption(world, identity, false, pose, scene)),
      negativePrompt: '', rate: o.rate, csaSeed: story.csaSeed, referenceNoise: o.fraction,
    }, settings);
    return { pixels: concatRows((await engine.render(requests(0, [bank]), settings)).pixels), bank };
  }
  const built = await engine.buildBank({
    prompts: prompts.slice(0, ID_FRAMES), negativePrompt: '', seeds: story.frames.slice(0, ID_FRAMES).map((f) => f.seed),
    rate: o.rate, csaSeed: story.csaSeed, write: row, referenceNoise: o.fraction,
    ...(row === 'first' && o.identityGuidance != null && { identityGuidance: o.identityGuidance }),
  }, settings);
  const read = await engine.render(requests(ID_FRAMES, [built.bank]), settings);
  return { pixels: concatRows([built.pixels, ...read.pixels]), bank: built.bank };
}

/** evaluate.score: the judge's predictions against the story. */
export async function scoreStory(engine: StoryEngine, world: World, identity: readonly number[], story: StorySpec, row: Row, pixels: Float32Tensor): Promise<Scores> {
  const preds = await engine.judge(pixels);
  const keys = world.identity_keys;
  const rows: boolean[][] = [];
  if (row === 'named-none' || row === 'reference') {
    for (const p of preds) rows.push(keys.map((k, j) => p[k] === identity[j]));
  } else {
    for (let i = 0; i < preds.length; i++) for (let j = i + 1; j < preds.length; j++) rows.push(keys.map((k) => preds[i]![k] === preds[j]![k]));
  }
  const mean = (xs: readonly boolean[]) => xs.filter(Boolean).length / xs.length;
  const ps = story.frames.map((f, i) => world.poses[preds[i]!.pose!] === f.pose && world.scenes[preds[i]!.scene!] === f.scene);
  const full = row === 'named-none' ? ps.map((ok, i) => ok && keys.every((k, j) => preds[i]![k] === identity[j])) : ps;
  return [mean(rows.flat()), mean(rows.map((r) => r.every(Boolean))), mean(ps), mean(full)];
}

export interface RowResult {
  row: Row;
  scores: Scores;
  stories: Array<{ scores: Scores; run?: StoryRun }>;
}

export async function evaluateRow(engine: StoryEngine, world: World, refs: ReferenceSet, stories: readonly StorySpec[], row: Row,
  o: EvaluateOptions & { keepRuns?: boolean }, onStory?: (done: number, total: number) => void): Promise<RowResult> {
  const results: RowResult['stories'] = [];
  for (const story of stories) {
    const run = await generateStory(engine, world, refs, story, row, o);
    const scores = await scoreStory(engine, world, refs.identities[story.reference]!, story, row, run.pixels);
    results.push(o.keepRuns ? { scores, run } : { scores });
    onStory?.(results.length, stories.length);
  }
  const mean = [0, 1, 2, 3].map((c) => results.reduce((s, r) => s + r.scores[c]!, 0) / results.length) as Scores;
  return { row, scores: mean, stories: results };
}

/** One table line, formatted as evaluate.py prints it. */
export function tableLine(row: string, s: Scores): string {
  return `| ${row} | ${s.map((v) => v.toFixed(3)).join(' | ')} |`;
}
