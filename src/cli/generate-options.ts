/**
 * `storyforge generate` arguments: parsed strictly (unknown flags, missing values and bad
 * numbers are errors that name the flag), never defaulted by falsiness (a guidance of 0
 * stays 0). Settings the pack decides (steps, guidance, scheduler, rate) stay undefined
 * here and take the pack's defaults once it is open.
 */
import { parseArgs } from 'node:util';
import type { ExecutionProvider } from '../engine/runtime';
import { SCHEDULER_NAMES, SchedulerName, isSchedulerName } from '../engine/schedulers';

export interface GenerateOptions {
  pack: string;
  character: string;
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
}

export const GENERATE_USAGE = `usage: storyforge generate --pack <dir|name> --character <description> --script <file> --out <dir> [options]

Renders a story script with a consistent character (StoryDiffusion's Consistent Self-Attention)
and writes frame-NN.png, contact-sheet.png and story.json to --out.

  --pack <dir|name>     model pack folder, or a pack name under models/packs
  --character <text>    who the character is, e.g. "a person with red hair"
  --script <file>       one frame per line; the prompt ends at the first #, the rest is the caption;
                        [NC] marks a frame without the character
  --out <dir>           output folder (created if missing)
  --steps <n>           denoising steps (pack default)
  --guidance <x>        classifier-free guidance scale (pack default)
  --scheduler <name>    ${SCHEDULER_NAMES.join(' | ')} (pack default)
  --seed <n>            frame i uses seed + i; the identity bank uses seed (default 1)
  --rate <x>            CSA sampling rate in (0, 1] (pack default)
  --identity-frames <n> frames the identity bank is written from, 0 for no CSA (default 2)
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

/** Parsed options, or null when help was asked for. */
export function parseGenerateArgs(argv: readonly string[]): GenerateOptions | null {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        pack: { type: 'string' }, character: { type: 'string' }, script: { type: 'string' }, out: { type: 'string' },
        steps: { type: 'string' }, guidance: { type: 'string' }, scheduler: { type: 'string' }, seed: { type: 'string' },
        rate: { type: 'string' }, 'identity-frames': { type: 'string' }, batch: { type: 'string' }, threads: { type: 'string' },
        provider: { type: 'string' }, help: { type: 'boolean', short: 'h' },
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

  const options: GenerateOptions = {
    pack: required('pack', text('pack')),
    character: required('character', text('character')).trim(),
    script: required('script', text('script')),
    out: required('out', text('out')),
    seed: integer('seed', text('seed'), 0, MAX_SEED) ?? 1,
    identityFrames: integer('identity-frames', text('identity-frames'), 0, 8) ?? 2,
    batch: integer('batch', text('batch'), 1, 64) ?? 4,
    provider,
  };
  const steps = integer('steps', text('steps'), 1, 1000);
  const guidance = decimal('guidance', text('guidance'), (v) => v >= 0 && v <= 100, 'a number from 0 to 100');
  const rate = decimal('rate', text('rate'), (v) => v > 0 && v <= 1, 'a number in (0, 1]');
  const threads = integer('threads', text('threads'), 1, 1024);
  if (steps !== undefined) options.steps = steps;
  if (guidance !== undefined) options.guidance = guidance;
  if (scheduler !== undefined) options.scheduler = scheduler;
  if (rate !== undefined) options.rate = rate;
  if (threads !== undefined) options.threads = threads;
  return options;
}
