/**
 * `storyforge generate` arguments: parsed strictly (unknown flags, missing values and bad
 * numbers are errors that name the flag), never defaulted by falsiness (a guidance of 0
 * stays 0). Settings the pack decides (steps, guidance, scheduler, rate, size) stay undefined
 * here and take the pack's defaults once it is open; whether the pack takes a --size and a
 * --style is checked against its manifest then.
 */
import { parseArgs } from 'node:util';
import { BUILT_IN_STYLES, builtInStyle } from '../domain/styles/built-in-styles';
import type { ExecutionProvider } from '../engine/runtime';
import { SCHEDULER_NAMES, SchedulerName, isSchedulerName } from '../engine/schedulers';

/** One --character: `NAME=DESCRIPTION`, or a bare description (one unnamed character). */
export interface CharacterOption {
  /** As given (tags match it case-insensitively); null for a bare description. */
  name: string | null;
  description: string;
}

export interface GenerateOptions {
  pack: string;
  /** In the order given: the cast order (prompts, banks, seeds). */
  characters: CharacterOption[];
  script: string;
  out: string;
  steps?: number;
  guidance?: number;
  scheduler?: SchedulerName;
  seed: number;
  rate?: number;
  identityFrames: number;
  batch: number;
  threads?: number;
  provider: ExecutionProvider;
  /** --negative as given ('' when absent). */
  negative: string;
  /** A built-in style preset's name, as the preset spells it. */
  style?: string;
  /** Output frame size in pixels (the pack's default when absent). */
  size?: { width: number; height: number };
}

export const GENERATE_USAGE = `usage: storyforge generate --pack <dir|name> --character <[NAME=]description> --script <file> --out <dir> [options]

Renders a story script with consistent characters (StoryDiffusion's Consistent Self-Attention)
and writes frame-NN.png, contact-sheet.png and story.json to --out.

  --pack <dir|name>     model pack folder, or a pack name under models/packs
  --character <text>    a character: NAME=DESCRIPTION, e.g. "Mira=a person with red hair"; repeat it
                        for several characters. A bare description (no NAME=) is one unnamed character.
  --script <file>       one frame per line; the prompt ends at the first #, the rest is the caption;
                        [Mira] tags say who is in a frame (the tag is replaced by Mira's description),
                        [NC] marks a frame without characters, an untagged frame shows every character
  --out <dir>           output folder (created if missing)
  --negative <text>     negative prompt, before the style's and the pack's
  --style <name>        a built-in style: ${BUILT_IN_STYLES.map((s) => s.name).join(', ')}
  --size <WxH>          frame size in pixels, e.g. 512x512 (pack default; the pack decides which sizes it takes)
  --steps <n>           denoising steps (pack default)
  --guidance <x>        classifier-free guidance scale (pack default)
  --scheduler <name>    ${SCHEDULER_NAMES.join(' | ')} (pack default)
  --seed <n>            frame i uses seed + i; character c's identity bank uses seed + c (default 1)
  --rate <x>            CSA sampling rate in (0, 1] (pack default)
  --identity-frames <n> frames each identity bank is written from, 0 for no CSA (default 2)
  --batch <n>           frames per UNet run (default 4)
  --threads <n>         ONNX Runtime threads per operator (default: all cores)
  --provider <name>     cpu | cuda (default cpu)
  -h, --help            this text`;

/** Bad arguments: exit status 2 and the message, never a stack trace. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export const MAX_SEED = 2_147_483_647;
/** Tags in a script are at most this long (names are matched against them). */
const MAX_NAME = 40;

function integer(flag: string, text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  const n = /^[+-]?\d+$/.test(text.trim()) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new UsageError(`--${flag} must be an integer from ${min} to ${max}, got "${text}"`);
  return n;
}

function decimal(flag: string, text: string | undefined, ok: (v: number) => boolean, range: string): number | undefined {
  if (text === undefined) return undefined;
  const n = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text.trim()) ? Number(text) : NaN;
  if (!Number.isFinite(n) || !ok(n)) throw new UsageError(`--${flag} must be ${range}, got "${text}"`);
  return n;
}

function required(flag: string, text: string | undefined): string {
  if (text === undefined || text.trim() === '') throw new UsageError(`--${flag} is required`);
  return text;
}

/** `NAME=DESCRIPTION` or a bare description; the name is what [NAME] tags in the script match. */
export function parseCharacter(text: string): CharacterOption {
  const at = text.indexOf('=');
  if (at === -1) {
    if (text.trim() === '') throw new UsageError('--character is empty');
    return { name: null, description: text.trim() };
  }
  const name = text.slice(0, at).trim();
  const description = text.slice(at + 1).trim();
  const bad = (why: string) => new UsageError(`--character "${text}": ${why}`);
  if (name === '') throw bad('the name before = is empty (NAME=DESCRIPTION)');
  if (description === '') throw bad(`${name} has no description after =`);
  if (/[[\]#=]/.test(name)) throw bad('a name cannot hold [, ], # or =');
  if (name.length > MAX_NAME) throw bad(`a name is at most ${MAX_NAME} characters`);
  if (name.toUpperCase() === 'NC') throw bad('NC is reserved: [NC] marks a frame without characters');
  return { name: name.replace(/\s+/g, ' '), description };
}

function parseCharacters(texts: readonly string[]): CharacterOption[] {
  if (texts.length === 0) throw new UsageError('--character is required');
  const characters = texts.map(parseCharacter);
  if (characters.length > 1) {
    const unnamed = characters.find((c) => c.name === null);
    if (unnamed) throw new UsageError(`with several characters each needs a name: --character "NAME=${unnamed.description}"`);
    const seen = new Set<string>();
    for (const c of characters) {
      const key = c.name!.toLowerCase();
      if (seen.has(key)) throw new UsageError(`--character ${c.name} is given twice (names are matched without case)`);
      seen.add(key);
    }
  }
  return characters;
}

/** `WIDTHxHEIGHT` in pixels. */
export function parseSize(text: string): { width: number; height: number } {
  const m = /^\s*(\d{1,5})\s*[xX×]\s*(\d{1,5})\s*$/.exec(text);
  const [width, height] = m ? [Number(m[1]), Number(m[2])] : [0, 0];
  if (!m || width < 1 || height < 1) throw new UsageError(`--size must be WIDTHxHEIGHT in pixels, e.g. 512x512, got "${text}"`);
  return { width, height };
}

/** Parsed options, or null when help was asked for. */
export function parseGenerateArgs(argv: readonly string[]): GenerateOptions | null {
  let values: Record<string, string | string[] | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        pack: { type: 'string' }, character: { type: 'string', multiple: true }, script: { type: 'string' }, out: { type: 'string' },
        steps: { type: 'string' }, guidance: { type: 'string' }, scheduler: { type: 'string' }, seed: { type: 'string' },
        rate: { type: 'string' }, 'identity-frames': { type: 'string' }, batch: { type: 'string' }, threads: { type: 'string' },
        provider: { type: 'string' }, negative: { type: 'string' }, style: { type: 'string' }, size: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    // parseArgs says e.g. "Unknown option '--step'"; keep its words.
    throw new UsageError((err as Error).message);
  }
  if (values.help) return null;
  const text = (k: string) => values[k] as string | undefined;

  const scheduler = text('scheduler');
  if (scheduler !== undefined && !isSchedulerName(scheduler)) {
    throw new UsageError(`--scheduler must be one of ${SCHEDULER_NAMES.join(', ')}, got "${scheduler}"`);
  }
  const provider = text('provider') ?? 'cpu';
  if (provider !== 'cpu' && provider !== 'cuda') throw new UsageError(`--provider must be cpu or cuda, got "${provider}"`);

  const pack = required('pack', text('pack'));
  const options: GenerateOptions = {
    pack,
    characters: parseCharacters((values.character as string[] | undefined) ?? []),
    script: required('script', text('script')),
    out: required('out', text('out')),
    seed: integer('seed', text('seed'), 0, MAX_SEED) ?? 1,
    identityFrames: integer('identity-frames', text('identity-frames'), 0, 8) ?? 2,
    batch: integer('batch', text('batch'), 1, 64) ?? 4,
    provider,
    negative: (text('negative') ?? '').trim(),
  };
  const steps = integer('steps', text('steps'), 1, 1000);
  const guidance = decimal('guidance', text('guidance'), (v) => v >= 0 && v <= 100, 'a number from 0 to 100');
  const rate = decimal('rate', text('rate'), (v) => v > 0 && v <= 1, 'a number in (0, 1]');
  const threads = integer('threads', text('threads'), 1, 1024);
  const styleName = text('style');
  const size = text('size');
  if (steps !== undefined) options.steps = steps;
  if (guidance !== undefined) options.guidance = guidance;
  if (scheduler !== undefined) options.scheduler = scheduler;
  if (rate !== undefined) options.rate = rate;
  if (threads !== undefined) options.threads = threads;
  if (styleName !== undefined) {
    const style = builtInStyle(styleName.trim());
    if (!style) throw new UsageError(`--style must be one of ${BUILT_IN_STYLES.map((s) => `"${s.name}"`).join(', ')}, got "${styleName}"`);
    options.style = style.name;
  }
  if (size !== undefined) options.size = parseSize(size);
  return options;
}
