/**
 * `storyforge generate`: a story script and a character description in, frame PNGs, a
 * contact sheet and a record of the settings out, through the engine (identity bank, then
 * the frames that read it). Bad input exits with status 2 and one clear line; a failure of
 * the machine (ONNX Runtime, disk) exits with 1.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { AppError } from '../domain/common/errors';
import { parseScript } from '../domain/stories/script-parser';
import { PackError } from '../engine/pack';
import type { RgbImage } from '../engine/pipelines/decode';
import { GenerationSettings, StoryEngine } from '../engine/story-engine';
import type { IdentityBank } from '../engine/story/identity-bank';
import { contactSheet, encodePng } from '../images';
import { projectRoot } from '../util/project-root';
import { GENERATE_USAGE, GenerateOptions, UsageError, parseGenerateArgs } from './generate-options';
import { ProgressReporter, ProgressStream } from './progress';
import { planStory } from './story-plan';

export interface CliStreams {
  stdout: ProgressStream;
  stderr: ProgressStream;
}

/** Input the user can fix: reported without a stack, exit status 2. */
class InputError extends Error {}

const PREFIX = 'storyforge generate';

export async function runGenerate(argv: readonly string[], io: CliStreams = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  let options: GenerateOptions | null;
  try {
    options = parseGenerateArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.stderr.write(`${PREFIX}: ${err.message}\n(see: storyforge generate --help)\n`);
    return 2;
  }
  if (options === null) {
    io.stdout.write(GENERATE_USAGE + '\n');
    return 0;
  }
  try {
    await generate(options, io);
    return 0;
  } catch (err) {
    const bad = err instanceof InputError || err instanceof PackError;
    io.stderr.write(`\n${PREFIX}: ${bad ? '' : 'failed: '}${(err as Error).message}\n`);
    return bad ? 2 : 1;
  }
}

/** A folder, or the name of a pack under models/packs. */
function resolvePack(arg: string): string {
  const direct = resolve(arg);
  if (existsSync(direct)) return direct;
  const packs = join(projectRoot(), 'models', 'packs');
  if (/^[\w.-]+$/.test(arg) && existsSync(join(packs, arg))) return join(packs, arg);
  const known = existsSync(packs) ? readdirSync(packs).filter((d) => existsSync(join(packs, d, 'manifest.json'))) : [];
  throw new InputError(`unknown pack "${arg}": no such folder${known.length > 0 ? `; packs in models/packs: ${known.join(', ')}` : ''}`);
}

async function readScript(path: string) {
  let text: string;
  try {
    if (statSync(path).isDirectory()) throw new InputError(`cannot read the script ${path}: it is a folder`);
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(`cannot read the script ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    // No cast: the character is given by --character, so [Name] tags are not used here.
    const frames = parseScript(text, []);
    if (frames.length === 0) throw new InputError(`the script ${path} has no frames (one frame per non-blank line)`);
    return frames;
  } catch (err) {
    if (err instanceof AppError) {
      const hint = /not in the story's cast/.test(err.message) ? ' (this command has one character, from --character: leave frames untagged or mark them [NC])' : '';
      throw new InputError(`${path}: ${err.message}${hint}`);
    }
    throw err;
  }
}

async function generate(options: GenerateOptions, io: CliStreams): Promise<void> {
  const started = performance.now();
  const frames = await readScript(options.script);
  const packDir = resolvePack(options.pack);
  const progress = new ProgressReporter(io.stderr);

  const engine = await StoryEngine.open(packDir, {
    runtime: {
      executionProviders: options.provider === 'cuda' ? ['cuda', 'cpu'] : ['cpu'],
      ...(options.threads !== undefined && { intraOpThreads: options.threads }),
    },
    batchSize: options.batch,
  });
  try {
    const m = engine.manifest;
    const settings: GenerationSettings = {
      scheduler: options.scheduler ?? m.defaults.scheduler,
      steps: options.steps ?? m.defaults.steps,
      guidance: options.guidance ?? m.defaults.guidance,
    };
    const rate = options.rate ?? m.csa?.defaultRate ?? 0.5;
    let identityFrames = options.identityFrames;
    if (identityFrames > 0 && engine.csaLayers.length === 0) {
      progress.note(`pack ${m.name} has no CSA layers: the frames are made without a shared identity`);
      identityFrames = 0;
    }
    const plan = planStory({ frames, character: options.character, seed: options.seed, identityFrames, identityPrompts: m.defaults.identityPrompts });
    const negativePrompt = m.defaults.negativePrompt;
    await mkdir(options.out, { recursive: true });
    const out = (name: string) => join(options.out, name);
    const source = plan.identitySource === 'pack' ? "the pack's identity prompts" : 'the first frames of the script';
    progress.note(`${m.name}: ${frames.length} frames, ${settings.steps} ${settings.scheduler} steps, guidance ${settings.guidance}, seed ${options.seed}`
      + (plan.anchor ? `; identity bank from ${plan.anchor.prompts.length} frames (${source}), rate ${rate}` : '; no identity bank'));

    const pictures: Array<RgbImage | undefined> = new Array(frames.length);
    const identityFiles: string[] = [];
    let bank: IdentityBank | null = null;
    if (plan.anchor) {
      const built = await engine.buildBank({ prompts: plan.anchor.prompts, negativePrompt, seeds: plan.anchor.seeds, rate, csaSeed: plan.anchor.csaSeed },
        settings, (done, total) => progress.update('identity bank', done, total, 'steps'));
      bank = built.bank;
      if (plan.identitySource === 'script') {
        plan.anchor.frames.forEach((index, k) => { pictures[index] = built.images[k]; });
      } else {
        for (const [k, image] of built.images.entries()) {
          const name = `identity-${k + 1}.png`;
          await writeFile(out(name), (await encodePng(image, { upscale: m.upscale })).bytes);
          identityFiles.push(name);
        }
      }
    }

    const todo = plan.frames.filter((f) => pictures[f.index] === undefined);
    if (todo.length > 0) {
      const requests = todo.map((f) => ({ prompt: f.prompt, negativePrompt, seed: f.seed, banks: f.withCharacter && bank ? [bank] : [] }));
      const rendered = await engine.render(requests, settings, (done, total) => progress.update('frames', done, total, 'frames'));
      todo.forEach((f, k) => { pictures[f.index] = rendered.images[k]; });
    }

    const digits = String(frames.length).length < 2 ? 2 : String(frames.length).length;
    const files = plan.frames.map((f) => `frame-${String(f.index + 1).padStart(digits, '0')}.png`);
    for (const f of plan.frames) await writeFile(out(files[f.index]!), (await encodePng(pictures[f.index]!, { upscale: m.upscale })).bytes);
    const sheet = await contactSheet(plan.frames.map((f) => ({ image: pictures[f.index]!, caption: f.caption })), { upscale: m.upscale });
    await writeFile(out('contact-sheet.png'), sheet.bytes);
    if (!sheet.captioned && plan.frames.some((f) => f.caption !== '')) progress.note('captions left out of the contact sheet: no usable fonts on this machine');

    // Everything needed to make the same pictures again.
    const record = {
      pack: m.name, model: engine.modelHash, settings, seed: options.seed, rate, negativePrompt,
      identity: plan.anchor && bank ? {
        source: plan.identitySource, prompts: plan.anchor.prompts, seeds: plan.anchor.seeds, csaSeed: plan.anchor.csaSeed,
        anchor: bank.header.anchor, files: identityFiles, frames: plan.anchor.frames.map((i) => files[i]),
      } : null,
      frames: plan.frames.map((f) => ({ file: files[f.index], prompt: f.prompt, caption: f.caption, seed: f.seed, character: f.withCharacter })),
      contactSheet: 'contact-sheet.png',
    };
    await writeFile(out('story.json'), JSON.stringify(record, null, 2) + '\n');
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    io.stdout.write(`wrote ${frames.length} frames, contact-sheet.png and story.json to ${options.out} in ${seconds} s\n`);
  } finally {
    await engine.dispose();
  }
}
