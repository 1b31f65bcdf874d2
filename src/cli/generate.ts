/**
 * `storyforge generate`: a story script and its characters in, frame PNGs, a contact sheet and
 * a record of the settings out, through the engine (one identity bank per character, then the
 * frames that read them: a frame with two characters reads both banks). Bad input exits with
 * status 2 and one clear line; a failure of the machine (ONNX Runtime, disk) exits with 1.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { styleApplies } from '../domain/jobs/prompts';
import { builtInStyle } from '../domain/styles/built-in-styles';
import { PackError, loadPack } from '../engine/pack';
import type { RgbImage } from '../engine/pipelines/decode';
import { FrameRequest, GenerationSettings, StoryEngine } from '../engine/story-engine';
import type { IdentityBank } from '../engine/story/identity-bank';
import { contactSheet, encodePng } from '../images';
import type { Upscale } from '../images/raster';
import { describe as describePack, renderGeometry, sizesInWords } from '../packs/pack-registry';
import { projectRoot } from '../util/project-root';
import { GENERATE_USAGE, GenerateOptions, UsageError, parseGenerateArgs } from './generate-options';
import { ProgressReporter, ProgressStream } from './progress';
import { CastMember, CharacterAnchor, PlannedFrame, ScriptError, planStory } from './story-plan';

export interface CliStreams {
  stdout: ProgressStream;
  stderr: ProgressStream;
}

/** Input the user can fix: reported without a stack, exit status 2. */
class InputError extends Error {}

const PREFIX = 'storyforge generate';
const HELP_HINT = '(see: storyforge generate --help)';

export async function runGenerate(argv: readonly string[], io: CliStreams = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  let options: GenerateOptions | null;
  try {
    options = parseGenerateArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.stderr.write(`${PREFIX}: ${err.message}\n${HELP_HINT}\n`);
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
    if (err instanceof UsageError) {
      io.stderr.write(`\n${PREFIX}: ${err.message}\n${HELP_HINT}\n`);
      return 2;
    }
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

async function readScript(path: string): Promise<string> {
  try {
    if (statSync(path).isDirectory()) throw new InputError(`cannot read the script ${path}: it is a folder`);
    return await readFile(path, 'utf8');
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(`cannot read the script ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** `1-4`, `1,3,5`, `1-3,7` (1-based). */
function ranges(numbers: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < numbers.length;) {
    let j = i;
    while (j + 1 < numbers.length && numbers[j + 1] === numbers[j]! + 1) j++;
    parts.push(j > i ? `${numbers[i]}-${numbers[j]}` : `${numbers[i]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** File-name part for a character: its name in lower case letters and digits, or its position. */
function slugs(cast: readonly CastMember[]): string[] {
  const out: string[] = [];
  cast.forEach((c, i) => {
    let slug = (c.name ?? '').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
    if (slug === '' || out.includes(slug)) slug = `${slug || 'character'}-${i + 1}`;
    out.push(slug);
  });
  return out;
}

async function generate(options: GenerateOptions, io: CliStreams): Promise<void> {
  const started = performance.now();
  const script = await readScript(options.script);
  const packDir = resolvePack(options.pack);
  // The manifest alone first: sizes, styles and the script are checked before ONNX Runtime starts.
  const m = (await loadPack(packDir)).manifest;
  const info = describePack(packDir, m);
  const progress = new ProgressReporter(io.stderr);
  const cast: CastMember[] = options.characters;

  let upscale: Upscale = m.upscale;
  const size: Partial<Pick<GenerationSettings, 'width' | 'height'>> = {};
  if (options.size) {
    const geometry = renderGeometry(info, options.size);
    if (!geometry) {
      throw new UsageError(`--size ${options.size.width}x${options.size.height} is not a size pack ${m.name} renders; it takes ${sizesInWords(info)}`);
    }
    upscale = { factor: geometry.upscale, kernel: m.upscale.kernel };
    if (geometry.engine.width !== info.native.width || geometry.engine.height !== info.native.height) {
      size.width = geometry.engine.width;
      size.height = geometry.engine.height;
    }
  }

  const style = options.style ? builtInStyle(options.style)! : null;
  const styleApplied = style !== null && styleApplies(style, info);
  if (style && !styleApplied) {
    progress.note(`warning: the style "${style.name}" is written for ${style.families.join(', ')} models; it has no effect on pack ${m.name} (${info.family})`);
  }
  const negativePrompt = [options.negative, styleApplied ? style!.negativePrompt : '', m.defaults.negativePrompt]
    .map((p) => p.trim()).filter(Boolean).join(', ');

  const planFor = (identityFrames: number) => {
    try {
      return planStory({ script, cast, seed: options.seed, identityFrames, identityPrompts: m.defaults.identityPrompts,
        styleTemplate: styleApplied ? style!.template : null });
    } catch (err) {
      if (err instanceof ScriptError) throw new UsageError(`${options.script}: ${err.message}`);
      throw err;
    }
  };
  let plan = planFor(options.identityFrames);
  if (plan.frames.length === 0) throw new InputError(`the script ${options.script} has no frames (one frame per non-blank line)`);

  const engine = await StoryEngine.open(packDir, {
    runtime: {
      executionProviders: options.provider === 'cuda' ? ['cuda', 'cpu'] : ['cpu'],
      ...(options.threads !== undefined && { intraOpThreads: options.threads }),
    },
    batchSize: options.batch,
  });
  try {
    const settings: GenerationSettings = {
      scheduler: options.scheduler ?? m.defaults.scheduler,
      steps: options.steps ?? m.defaults.steps,
      guidance: options.guidance ?? m.defaults.guidance,
      ...size,
    };
    const rate = options.rate ?? m.csa?.defaultRate ?? 0.5;
    if (options.identityFrames > 0 && engine.csaLayers.length === 0) {
      progress.note(`pack ${m.name} has no CSA layers: the frames are made without a shared identity`);
      plan = planFor(0);
    }
    const frames = plan.frames;
    await mkdir(options.out, { recursive: true });
    const out = (name: string) => join(options.out, name);
    const label = (c: number) => (cast[c]!.name === null ? 'identity bank' : `identity bank of ${cast[c]!.name}`);
    const sources: Record<CharacterAnchor['source'], string> = {
      pack: "the pack's identity prompts",
      script: 'the first frames of the script',
      description: 'the description alone: never alone in a frame',
    };
    const banksText = plan.anchors.map((a) => `${label(a.character)} from ${a.prompts.length} frames (${sources[a.source]})`).join('; ');
    progress.note(`${m.name}: ${frames.length} frames, ${cast.length} character${cast.length === 1 ? '' : 's'}, ${settings.steps} ${settings.scheduler} steps, `
      + `guidance ${settings.guidance}, seed ${options.seed}` + (plan.anchors.length > 0 ? `; ${banksText}, rate ${rate}` : '; no identity bank'));
    for (const [c, member] of cast.entries()) {
      if (!frames.some((f) => f.cast.includes(c))) progress.note(`${member.name ?? 'the character'} is in no frame of the script`);
    }

    const pictures: Array<RgbImage | undefined> = new Array(frames.length);
    const banks: Array<IdentityBank | undefined> = new Array(cast.length);
    const identityFiles: string[][] = cast.map(() => []);
    const fileSlugs = slugs(cast);
    for (const [k, anchor] of plan.anchors.entries()) {
      const name = plan.anchors.length > 1 ? `${label(anchor.character)} (${k + 1}/${plan.anchors.length})` : label(anchor.character);
      const built = await engine.buildBank({ prompts: anchor.prompts, negativePrompt, seeds: anchor.seeds, rate, csaSeed: anchor.csaSeed },
        settings, (done, total) => progress.phase(name, done / total, `step ${done}/${total}`));
      banks[anchor.character] = built.bank;
      if (anchor.source === 'script') {
        anchor.frames.forEach((index, i) => { pictures[index] = built.images[i]; });
      } else {
        for (const [i, image] of built.images.entries()) {
          const file = cast[anchor.character]!.name === null ? `identity-${i + 1}.png` : `identity-${fileSlugs[anchor.character]}-${i + 1}.png`;
          await writeFile(out(file), (await encodePng(image, { upscale })).bytes);
          identityFiles[anchor.character]!.push(file);
        }
      }
    }

    // The rest, in runs of frames with the same characters (at most --batch each), so progress can say which.
    const todo = frames.filter((f) => pictures[f.index] === undefined);
    const groups = new Map<string, PlannedFrame[]>();
    for (const f of todo) {
      const key = f.cast.filter((c) => banks[c]).join('+');
      groups.set(key, [...(groups.get(key) ?? []), f]);
    }
    let rendered = 0;
    for (const group of groups.values()) {
      for (let at = 0; at < group.length; at += options.batch) {
        const chunk = group.slice(at, at + options.batch);
        const requests: FrameRequest[] = chunk.map((f) => ({ prompt: f.prompt, negativePrompt, seed: f.seed,
          banks: f.cast.flatMap((c) => (banks[c] ? [banks[c]!] : [])) }));
        const which = `frame${chunk.length > 1 ? 's' : ''} ${ranges(chunk.map((f) => f.index + 1))}/${frames.length}`;
        const { images } = await engine.render(requests, settings, undefined,
          (step, steps) => progress.phase('render', (rendered + chunk.length * (step / steps)) / todo.length, `${which}, step ${step}/${steps}`));
        chunk.forEach((f, i) => { pictures[f.index] = images[i]; });
        rendered += chunk.length;
      }
    }

    const digits = String(frames.length).length < 2 ? 2 : String(frames.length).length;
    const files = frames.map((f) => `frame-${String(f.index + 1).padStart(digits, '0')}.png`);
    for (const f of frames) await writeFile(out(files[f.index]!), (await encodePng(pictures[f.index]!, { upscale })).bytes);
    const sheet = await contactSheet(frames.map((f) => ({ image: pictures[f.index]!, caption: f.caption })), { upscale });
    await writeFile(out('contact-sheet.png'), sheet.bytes);
    if (!sheet.captioned && frames.some((f) => f.caption !== '')) progress.note('captions left out of the contact sheet: no usable fonts on this machine');

    // Everything needed to make the same pictures again.
    const first = pictures[0]!;
    const record = {
      pack: m.name, model: engine.modelHash, settings, seed: options.seed, rate,
      size: { width: first.width * upscale.factor, height: first.height * upscale.factor },
      upscale: upscale.factor,
      style: style ? { name: style.name, applied: styleApplied } : null,
      negative: options.negative,
      negativePrompt,
      characters: cast.map((c, i) => {
        const anchor = plan.anchors.find((a) => a.character === i);
        return {
          name: c.name, description: c.description,
          identity: anchor && banks[i] ? {
            source: anchor.source, prompts: anchor.prompts, seeds: anchor.seeds, csaSeed: anchor.csaSeed,
            anchor: banks[i]!.header.anchor, files: identityFiles[i], frames: anchor.frames.map((f) => files[f]),
          } : null,
        };
      }),
      frames: frames.map((f) => ({ file: files[f.index], line: f.line, prompt: f.prompt, caption: f.caption, seed: f.seed,
        characters: f.cast.map((c) => cast[c]!.name) })),
      contactSheet: 'contact-sheet.png',
    };
    await writeFile(out('story.json'), JSON.stringify(record, null, 2) + '\n');
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    io.stdout.write(`wrote ${frames.length} frames, contact-sheet.png and story.json to ${options.out} in ${seconds} s\n`);
  } finally {
    await engine.dispose();
  }
}
