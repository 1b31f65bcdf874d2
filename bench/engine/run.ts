/**
 * bench/engine: the TypeScript engine against the PyTorch reference sampler on the embedded
 * story-world pack, measured side by side in one run: same network, steps, batch, guidance,
 * prompts and seeds, the same number of threads each. Runs are interleaved (the order rotates
 * every repeat) and ratios are taken per repeat, then the median, so a busy machine slows
 * both sides of a ratio alike. Not a test: figures depend on the machine.
 *
 *   npm run bench:engine                       # 25 steps, batch 4, 2 threads, 5 repeats
 *   npm run bench:engine -- --quick            # 4 steps, batch 2, 1 thread, 2 repeats: does it work?
 *   options: --steps N --batch N --threads N --repeats N --id-frames N --no-torch
 *   env: STORYFORGE_BENCH_CKPT (checkpoint the pack was exported from; default
 *        models/story-world/runs/main/latest.pt), STORYFORGE_PYTHON (default /usr/bin/python3)
 *
 * Targets (issue 4): PyTorch / TypeScript >= 2x; CSA identity / plain <= 1.15x; read / plain <= 1.10x.
 * Also: the same plain renders at guidance 1, which skips the unconditional half of the UNet
 * batch, against the bench's guidance (no target: the ratio shows what skipping it is worth).
 */
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { GenerationSettings, StoryEngine } from '../../src/engine/story-engine';
import type { IdentityBank } from '../../src/engine/story/identity-bank';
import { projectRoot } from '../../src/util/project-root';
import { TorchReference } from './torch-reference';

const PROMPTS = [
  'a person with red hair waving in the city', 'a person with red hair sitting on the beach',
  'a person with red hair walking in the forest', 'a person with red hair jumping in the snow',
  'a person with red hair standing at night', 'a person with red hair waving in the desert',
];

function flag(name: string): boolean {
  return process.argv.includes(`--${name}`);
}

function int(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer, got "${process.argv[i + 1]}"`);
  return v;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function seconds(run: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await run();
  return (performance.now() - t0) / 1000;
}

type Case = 'ts:plain' | 'ts:plain-g1' | 'ts:identity' | 'ts:read' | 'torch:plain' | 'torch:identity' | 'torch:read';

async function main(): Promise<void> {
  const quick = flag('quick');
  const steps = int('steps', quick ? 4 : 25);
  const batch = int('batch', quick ? 2 : 4);
  // One thread in quick mode: it is meant for a busy machine, where PyTorch's OpenMP threads
  // (and, less so, ONNX Runtime's spinning pool) slow down by 10x when cores are oversubscribed.
  const threads = int('threads', quick ? 1 : 2);
  const repeats = int('repeats', quick ? 2 : 5);
  const idFrames = int('id-frames', 2);
  const root = projectRoot();
  const pack = join(root, 'models/packs/story-world');
  const trainingStep = (JSON.parse(readFileSync(join(pack, 'manifest.json'), 'utf8')) as { training_step?: number }).training_step;
  const checkpoint = process.env.STORYFORGE_BENCH_CKPT ?? join(root, 'models/story-world/runs/main/latest.pt');
  const python = process.env.STORYFORGE_PYTHON ?? '/usr/bin/python3';

  const settings: GenerationSettings = { scheduler: 'ddim', steps, guidance: 5 };
  const unguided: GenerationSettings = { ...settings, guidance: 1 };
  const frames = Array.from({ length: batch }, (_, i) => ({ prompt: PROMPTS[i % PROMPTS.length]!, negativePrompt: '', seed: 1000 + i }));
  const csaSeed = 7;
  const rate = 0.5;

  const out = (s: string) => process.stdout.write(s + '\n');
  const load = loadavg()[0]!;
  if (load > availableParallelism() - threads + 0.5) {
    out(`note: load average ${load.toFixed(1)} on ${availableParallelism()} cores before starting: other work shares the CPU, figures are noisy`
      + (threads > 1 ? ' (and multi-threaded PyTorch suffers most from oversubscription; try --threads 1)' : ''));
  }
  out(`bench/engine: pack story-world${trainingStep ? ` (training step ${trainingStep})` : ''}, ${steps} ddim steps, batch ${batch} frames `
    + `(${2 * batch} UNet rows with guidance), ${threads} thread(s) each side, ${repeats} interleaved repeat(s), medians${quick ? ' [--quick]' : ''}`);

  const engine = await StoryEngine.open(pack, { batchSize: batch, runtime: { intraOpThreads: threads, interOpThreads: 1 } });
  let torch: TorchReference | null = null;
  try {
    if (flag('no-torch')) out('PyTorch reference: skipped (--no-torch)');
    else if (!existsSync(checkpoint)) out(`PyTorch reference: skipped: no checkpoint at ${checkpoint} (set STORYFORGE_BENCH_CKPT)`);
    else {
      torch = await TorchReference.start(python, checkpoint, threads);
      const same = torch.info.step === trainingStep;
      out(`PyTorch reference: ${checkpoint} (step ${torch.info.step}), torch ${torch.info.torch}, ${torch.info.threads} thread(s)`
        + (same ? ', the weights the pack was exported from' : `; the pack is step ${trainingStep}: same network and work, other weight values (timing only)`));
    }

    // The bank the read phase reads: a character anchored on idFrames frames (the default anchor).
    const anchor = { prompts: PROMPTS.slice(0, idFrames), negativePrompt: '', seeds: PROMPTS.slice(0, idFrames).map((_, i) => 500 + i), rate, csaSeed };
    const bank: IdentityBank = (await engine.buildBank(anchor, settings)).bank;
    const torchBase = { prompts: frames.map((f) => f.prompt), seeds: frames.map((f) => f.seed), steps, guidance: settings.guidance, rate, csaSeed };
    if (torch) await torch.time({ op: 'identity', prompts: anchor.prompts, seeds: anchor.seeds, steps, guidance: settings.guidance, rate, csaSeed, keep: true });

    const cases: Record<Case, () => Promise<number>> = {
      'ts:plain': () => seconds(() => engine.render(frames.map((f) => ({ ...f, banks: [] })), settings)),
      'ts:plain-g1': () => seconds(() => engine.render(frames.map((f) => ({ ...f, banks: [] })), unguided)),
      'ts:identity': () => seconds(() => engine.buildBank({ prompts: torchBase.prompts, negativePrompt: '', seeds: torchBase.seeds, rate, csaSeed }, settings)),
      'ts:read': () => seconds(() => engine.render(frames.map((f) => ({ ...f, banks: [bank] })), settings)),
      'torch:plain': () => torch!.time({ ...torchBase, op: 'plain' }),
      'torch:identity': () => torch!.time({ ...torchBase, op: 'identity' }),
      'torch:read': () => torch!.time({ ...torchBase, op: 'read' }),
    };
    const order = (Object.keys(cases) as Case[]).filter((c) => torch || c.startsWith('ts:'));
    for (const c of order) await cases[c](); // warm-up: first runs allocate and plan

    const times: Record<string, number[]> = Object.fromEntries(order.map((c) => [c, []]));
    const wall = performance.now();
    for (let r = 0; r < repeats; r++) {
      const rotated = [...order.slice(r % order.length), ...order.slice(0, r % order.length)];
      for (const c of rotated) times[c]!.push(await cases[c]());
      process.stderr.write(`  repeat ${r + 1}/${repeats} done\n`);
    }
    const ratio = (a: Case, b: Case) => median(times[a]!.map((t, i) => t / times[b]![i]!));

    out('');
    out('| phase | TypeScript (s) | TS frames/s | PyTorch (s) | PyTorch / TypeScript |');
    out('|---|---|---|---|---|');
    for (const phase of ['plain', 'identity', 'read'] as const) {
      const ts = median(times[`ts:${phase}`]!);
      const label = phase === 'identity' ? 'CSA identity (write)' : phase === 'read' ? 'CSA read (bank)' : 'plain';
      const py = torch ? `${median(times[`torch:${phase}`]!).toFixed(3)}` : '-';
      const speedup = torch ? `${ratio(`torch:${phase}`, `ts:${phase}`).toFixed(2)}x` : '-';
      out(`| ${label} | ${ts.toFixed(3)} | ${(batch / ts).toFixed(2)} | ${py} | ${speedup} |`);
    }
    out('');
    const mark = (v: number, ok: boolean) => `${v.toFixed(3)}x ${ok ? '(meets target)' : '(misses target)'}`;
    if (torch) {
      const s = ratio('torch:plain', 'ts:plain');
      out(`speed-up over PyTorch, plain, same steps and batch: ${mark(s, s >= 2)}  [target >= 2x]`);
    }
    const w = ratio('ts:identity', 'ts:plain');
    const rd = ratio('ts:read', 'ts:plain');
    out(`CSA identity phase / plain (TypeScript): ${mark(w, w <= 1.15)}  [target <= 1.15x]`);
    out(`CSA read phase / plain (TypeScript, bank of ${idFrames} frames): ${mark(rd, rd <= 1.10)}  [target <= 1.10x]`);
    const g = ratio('ts:plain-g1', 'ts:plain');
    out(`plain, guidance ${unguided.guidance} vs ${settings.guidance} (TypeScript, ${batch} vs ${2 * batch} UNet rows): ${g.toFixed(2)}x the time (${(1 / g).toFixed(2)}x faster)`);
    if (torch) out(`for reference, PyTorch: identity / plain ${ratio('torch:identity', 'torch:plain').toFixed(3)}x, read / plain ${ratio('torch:read', 'torch:plain').toFixed(3)}x`);
    const bankSize = bank.serializedSize();
    out(`identity bank (${idFrames} frames, rate ${rate}, ${steps} steps): ${(bankSize.totalBytes / 1e6).toFixed(2)} MB float32, ${(bank.serializedSize('float16').totalBytes / 1e6).toFixed(2)} MB float16`);
    const nodeRss = process.resourceUsage().maxRSS / 1024;
    out(`peak RSS: node (engine + bench) ${nodeRss.toFixed(0)} MB${torch ? `, python (reference) ${((await torch.maxRssKb()) / 1024).toFixed(0)} MB` : ''}`);
    out(`timed section: ${((performance.now() - wall) / 1000).toFixed(1)} s`);
  } finally {
    await torch?.close();
    await engine.dispose();
  }
}

main().catch((err) => {
  process.stderr.write(`bench/engine: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
