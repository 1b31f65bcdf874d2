/**
 * bench/consistency: the model card's consistency table (models/story-world/evaluate.py),
 * computed by the TypeScript engine with the pack's judge.onnx. Defaults are evaluate.py's
 * own (recorded in model-card-stories.json); the figures should match the PyTorch table within
 * +-0.05 for the same weights.
 *
 *   npm run bench:consistency                              # the full table (50 stories)
 *   npm run bench:consistency -- --stories 5 --steps 10    # a quick look
 *   npm run bench:consistency -- --compare evaluate.json   # side by side with evaluate.py --json
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { StoryEngine } from '../../src/engine/story-engine';
import { projectRoot } from '../../src/util/project-root';
import { COLUMNS, EvaluateOptions, Scores, evaluateRow, parseRow, tableLine } from './evaluate';
import { loadStorySpecs } from './story-specs';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}

function num(name: string, fallback: number): number {
  const text = arg(name);
  if (text === undefined) return fallback;
  const v = Number(text);
  if (!Number.isFinite(v)) throw new Error(`--${name} must be a number, got "${text}"`);
  return v;
}

async function main(): Promise<void> {
  const specs = loadStorySpecs();
  const d = specs.defaults;
  const options: EvaluateOptions = {
    stories: num('stories', d.stories), steps: num('steps', d.steps), guidance: num('guidance', d.guidance),
    rate: num('rate', d.rate), idFrames: num('id-frames', d.id_frames),
  };
  const rows = (arg('rows') ?? d.rows).split(',');
  rows.forEach(parseRow);
  const threads = num('threads', d.threads);
  const pack = arg('pack') ?? join(projectRoot(), 'models/packs/story-world');
  const compare = arg('compare');
  const reference: Record<string, number[]> | null = compare ? (JSON.parse(readFileSync(compare, 'utf8')) as { results: Record<string, number[]> }).results : null;

  const engine = await StoryEngine.open(pack, { judge: true, runtime: { intraOpThreads: threads, interOpThreads: 1 } });
  try {
    if (!engine.hasJudge) throw new Error(`pack ${engine.manifest.name} has no judge`);
    // training_step is informational (export.py writes it); the parsed manifest does not keep it.
    const step = (JSON.parse(readFileSync(join(pack, 'manifest.json'), 'utf8')) as { training_step?: number }).training_step;
    process.stdout.write(`consistency table: pack ${engine.manifest.name}${step ? ` (step ${step})` : ''}, ${options.stories} stories x ${specs.framesPerStory} frames, `
      + `${options.steps} ddim steps, guidance ${options.guidance}, rate ${options.rate}, ${options.idFrames} identity frames, ${threads} thread(s)\n\n`);
    process.stdout.write(`| row | ${COLUMNS.join(' | ')} |\n|---|---|---|---|---|\n`);
    const results: Record<string, Scores> = {};
    for (const row of rows) {
      const t0 = performance.now();
      const r = await evaluateRow(engine, specs, row, options, (done, total) => {
        if (process.stderr.isTTY) process.stderr.write(`\r${row}: story ${done}/${total}`);
      });
      if (process.stderr.isTTY) process.stderr.write('\r\x1b[2K');
      results[row] = r.scores;
      let line = tableLine(row, r.scores);
      const ref = reference?.[row];
      if (ref) {
        const delta = r.scores.map((v, i) => v - ref[i]!);
        const worst = Math.max(...delta.map(Math.abs));
        line += `  PyTorch: ${ref.map((v) => v.toFixed(3)).join(' / ')}  max |diff| ${worst.toFixed(3)}${worst <= 0.05 ? '' : '  (outside +-0.05)'}`;
      }
      process.stdout.write(`${line}  (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
    }
    const out = arg('json');
    if (out) writeFileSync(out, JSON.stringify({ options, rows, results }, null, 1) + '\n');
  } finally {
    await engine.dispose();
  }
}

main().catch((err) => {
  process.stderr.write(`bench/consistency: ${(err as Error).message}\n`);
  process.exit(1);
});
