/**
 * bench/consistency: the embedded model's consistency table (models/story-world/evaluate.py's
 * rows) from the TypeScript engine and the pack's judge, for any seed.
 *
 *   npm run bench:consistency                                   # 50 stories, seed 2026
 *   npm run bench:consistency -- --seed 7 --stories 10 --json out.json
 *   npm run bench:consistency -- --rows joint,first --fraction 0.25
 *
 * Each line ends with the row's targets and whether it meets them.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { StoryEngine } from '../../src/engine/story-engine';
import { projectRoot } from '../../src/util/project-root';
import { COLUMNS, EvaluateOptions, ROWS, Scores, TARGETS, evaluateRow, parseRow, tableLine } from './evaluate';
import { FRAMES, loadReferenceSet, loadWorld, storySpecs } from './story-specs';

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
  const pack = arg('pack') ?? join(projectRoot(), 'models/packs/story-world');
  const threads = num('threads', 1);
  const engine = await StoryEngine.open(pack, { judge: true, runtime: { intraOpThreads: threads, interOpThreads: 1 } });
  try {
    if (!engine.hasJudge) throw new Error(`pack ${engine.manifest.name} has no judge`);
    const m = engine.manifest;
    const options: EvaluateOptions = {
      steps: num('steps', m.defaults.steps), guidance: num('guidance', m.defaults.guidance),
      rate: num('rate', m.csa?.defaultRate ?? 1), fraction: num('fraction', m.csa?.referenceNoise ?? 0.5),
      identityGuidance: num('identity-guidance', m.csa?.identityGuidance ?? num('guidance', m.defaults.guidance)),
    };
    const seed = num('seed', 2026);
    const n = num('stories', 50);
    const rows = (arg('rows') ?? ROWS.join(',')).split(',').map(parseRow);
    const world = loadWorld(pack);
    const refs = await loadReferenceSet();
    const stories = storySpecs(world, seed, n, refs.identities.length);
    const step = (JSON.parse(readFileSync(join(pack, 'manifest.json'), 'utf8')) as { training_step?: number }).training_step;
    const json = process.argv.includes('--json');
    const log = (s: string) => { if (!json || arg('json')) process.stdout.write(s); };
    log(`consistency table: pack ${m.name}${step ? ` (step ${step})` : ''}, seed ${seed}, ${n} stories x ${FRAMES} frames, `
      + `${options.steps} ddim steps, guidance ${options.guidance}, rate ${options.rate}, reference noise ${options.fraction}, `
      + `first identity frame at guidance ${options.identityGuidance}, ${threads} thread(s)\n\n`);
    log(`| row | ${COLUMNS.join(' | ')} | targets |\n|---|---|---|---|---|---|\n`);
    const results: Record<string, Scores> = {};
    for (const row of rows) {
      const t0 = performance.now();
      const r = await evaluateRow(engine, world, refs, stories, row, options, (done, total) => {
        if (process.stderr.isTTY) process.stderr.write(`\r${row}: story ${done}/${total}`);
      });
      if (process.stderr.isTTY) process.stderr.write('\r\x1b[2K');
      results[row] = r.scores;
      const t = TARGETS[row];
      const checks = [
        ...(t.identityAll === null ? [] : [`all five >= ${t.identityAll}: ${r.scores[1] >= t.identityAll ? 'met' : 'NOT met'}`]),
        `pose+scene >= ${t.poseScene}: ${r.scores[2] >= t.poseScene ? 'met' : 'NOT met'}`,
        ...(t.full === undefined ? [] : [`full >= ${t.full}: ${r.scores[3] >= t.full ? 'met' : 'NOT met'}`]),
      ];
      log(`${tableLine(row, r.scores)} ${checks.join('; ')} |  (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
    }
    const payload = JSON.stringify({ pack: m.name, trainingStep: step ?? null, seed, stories: n, options, results }, null, 1) + '\n';
    const out = arg('json');
    if (out && !out.startsWith('--')) writeFileSync(out, payload);
    else if (json) process.stdout.write(payload);
  } finally {
    await engine.dispose();
  }
}

main().catch((err) => {
  process.stderr.write(`bench/consistency: ${(err as Error).message}\n`);
  process.exit(1);
});
