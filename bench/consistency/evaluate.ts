/**
 * The model card's consistency table, computed by the TypeScript engine: evaluate.py's
 * generate() and score() over the same stories, seeds and prompts.
 *
 * Rows: "<mode>" on stories with no named attributes, "named-<mode>" on stories naming two.
 * Modes (as evaluate.generate):
 * - none: every frame plain (no CSA);
 * - identity: all frames written together in one identity phase;
 * - read: the first `idFrames` written (the bank), the rest read it; the engine reads with
 *   the bank's csaSeed + 1, which is what evaluate.py passes.
 * Story k uses csaSeed = 77 + k. Scores are the judge's metrics on the [-1, 1] pictures.
 */
import { GenerationSettings, StoryEngine } from '../../src/engine/story-engine';
import { IdentityBank } from '../../src/engine/story/identity-bank';
import { Float32Tensor, float32 } from '../../src/engine/tensor';
import { JudgeSpec, adherence, identityAgreement, parseJudgeSpec } from '../../src/engine/judge';
import type { SpecFrame, StorySpecs } from './story-specs';

export type Mode = 'none' | 'identity' | 'read';

export interface EvaluateOptions {
  stories: number;
  steps: number;
  guidance: number;
  rate: number;
  idFrames: number;
}

export interface StoryRun {
  /** [frames, 3, H, W] in [-1, 1], in story order. */
  pixels: Float32Tensor;
  /** The bank the story's frames shared (identity and read modes). */
  bank: IdentityBank | null;
  /** Story positions of the frames that read `bank`. */
  readers: number[];
}

/** [identity agreement (attributes), identity agreement (all five), pose+scene adherence, full adherence] */
export type Scores = [number, number, number, number];

export const COLUMNS = ['identity agreement (attributes)', 'identity agreement (all)', 'pose+scene adherence', 'full adherence'] as const;

function stack(parts: readonly Float32Tensor[]): Float32Tensor {
  const rows = parts.reduce((n, p) => n + p.dims[0]!, 0);
  const out = float32([rows, ...parts[0]!.dims.slice(1)]);
  let at = 0;
  for (const p of parts) {
    out.data.set(p.data, at);
    at += p.data.length;
  }
  return out;
}

export function parseRow(row: string): { mode: Mode; named: number } {
  const mode = row.split('-').pop();
  if (mode !== 'none' && mode !== 'identity' && mode !== 'read') throw new RangeError(`unknown row "${row}" (modes: none, identity, read)`);
  return { mode, named: row.startsWith('named') ? 2 : 0 };
}

/** evaluate.generate, through the engine. */
export async function generateStory(engine: StoryEngine, frames: readonly SpecFrame[], mode: Mode, csaSeed: number,
  o: Pick<EvaluateOptions, 'steps' | 'guidance' | 'rate' | 'idFrames'>): Promise<StoryRun> {
  const settings: GenerationSettings = { scheduler: 'ddim', steps: o.steps, guidance: o.guidance };
  const request = (f: SpecFrame, banks: IdentityBank[]) => ({ prompt: f.prompt, negativePrompt: '', seed: f.seed, banks });
  if (mode === 'none') {
    const { pixels } = await engine.render(frames.map((f) => request(f, [])), settings);
    return { pixels: stack(pixels), bank: null, readers: [] };
  }
  const writers = mode === 'identity' ? frames : frames.slice(0, o.idFrames);
  const built = await engine.buildBank({ prompts: writers.map((f) => f.prompt), negativePrompt: '', seeds: writers.map((f) => f.seed), rate: o.rate, csaSeed }, settings);
  if (mode === 'identity') return { pixels: built.pixels, bank: built.bank, readers: [] };
  const rest = frames.slice(o.idFrames);
  const read = await engine.render(rest.map((f) => request(f, [built.bank])), settings);
  return { pixels: stack([built.pixels, ...read.pixels]), bank: built.bank, readers: rest.map((_, i) => o.idFrames + i) };
}

/** evaluate.score: the judge's predictions, then judge.py's metrics. */
export async function scoreStory(engine: StoryEngine, spec: JudgeSpec, pixels: Float32Tensor, frames: readonly SpecFrame[]): Promise<Scores> {
  const preds = await engine.judge(pixels);
  const agreement = identityAgreement(preds, spec.identity);
  const adh = adherence(preds, frames.map((f) => f.asked), spec.heads);
  return [agreement.attributes, agreement.all, adh.actions, adh.full];
}

export interface RowResult {
  row: string;
  scores: Scores;
  /** Per story; `run` only with keepRuns (a bank per story adds up over 50 stories). */
  stories: Array<{ scores: Scores; run?: StoryRun }>;
}

export async function evaluateRow(engine: StoryEngine, specs: StorySpecs, row: string, o: EvaluateOptions & { keepRuns?: boolean },
  onStory?: (done: number, total: number) => void): Promise<RowResult> {
  const { mode, named } = parseRow(row);
  const stories = specs.sets[String(named)];
  if (!stories || stories.length < o.stories) throw new RangeError(`model-card-stories.json holds ${stories?.length ?? 0} stories with ${named} named attributes; ${o.stories} asked`);
  const spec = parseJudgeSpec(engine.manifest.judge);
  const results: RowResult['stories'] = [];
  for (let k = 0; k < o.stories; k++) {
    const frames = stories[k]!;
    const run = await generateStory(engine, frames, mode, specs.csaSeedBase + k, o);
    const scores = await scoreStory(engine, spec, run.pixels, frames);
    results.push(o.keepRuns ? { scores, run } : { scores });
    onStory?.(k + 1, o.stories);
  }
  const mean = [0, 1, 2, 3].map((c) => results.reduce((s, r) => s + r.scores[c]!, 0) / results.length) as Scores;
  return { row, scores: mean, stories: results };
}

/** One table line, formatted as evaluate.py prints it. */
export function tableLine(row: string, s: Scores): string {
  return `| ${row} | ${s.map((v) => v.toFixed(3)).join(' | ')} |`;
}
