import { randomInt } from 'node:crypto';
import { SCHEDULER_NAMES, SchedulerName } from '../../engine/schedulers';
import { PackInfo, PackRegistry, renderGeometry, sizesInWords } from '../../packs/pack-registry';
import { unknownModel, unsupportedSize } from '../common/errors';
import { LIMITS, MAX_SEED, intInRange, numberInRange, oneOf, optionalText, requiredText, seed } from '../common/validation';

export interface StorySettingsInput {
  title?: string | null;
  style?: string | null;
  negativePrompt?: string | null;
  model?: string | null;
  width?: number | null;
  height?: number | null;
  steps?: number | null;
  guidance?: number | null;
  scheduler?: string | null;
  seed?: number | null;
}

export interface StorySettings {
  title: string;
  /** A style preset's name as given (StoryService checks it exists). */
  style: string;
  negativePrompt: string;
  model: string;
  width: number;
  height: number;
  steps: number;
  guidance: number;
  scheduler: SchedulerName;
  seed: number;
}

/** Steps and guidance a story may ask of any pack. */
export const STEP_RANGE = { min: 1, max: 150 } as const;
export const GUIDANCE_RANGE = { min: 0, max: 30 } as const;

/** The installed pack named `name`, or UNKNOWN_MODEL naming the installed ones. */
export function installedPack(packs: PackRegistry, name: string, field = 'model'): PackInfo {
  const pack = packs.get(name);
  if (!pack) throw unknownModel(field, `the model pack "${name}" is not installed here (installed: ${packs.names.join(', ') || 'none'})`);
  return pack;
}

/**
 * Validates a story's settings. A new story takes its model from the input or the deployment's
 * default, and its size, steps, guidance and scheduler from that pack's defaults. Changing the
 * model of a story resets what the new pack cannot keep (a size it does not render) to its
 * defaults, unless the update names them; what it can keep, it keeps.
 */
export function storySettings(input: StorySettingsInput, base: StorySettings | undefined, packs: PackRegistry, defaultModel: string): StorySettings {
  const model = requiredText('model', input.model ?? base?.model ?? defaultModel, LIMITS.modelLength);
  const pack = installedPack(packs, model);
  const d = pack.manifest.defaults;
  const switched = base !== undefined && base.model !== model;
  const keep = <K extends keyof StorySettings>(k: K): StorySettings[K] | undefined => base?.[k];

  let width = intInRange('width', input.width ?? keep('width') ?? pack.width, 1, 4096);
  let height = intInRange('height', input.height ?? keep('height') ?? pack.height, 1, 4096);
  if (switched && input.width == null && input.height == null && !renderGeometry(pack, { width, height })) {
    width = pack.width;
    height = pack.height;
  }
  if (!renderGeometry(pack, { width, height })) {
    const field = input.height != null && input.width == null ? 'height' : 'width';
    throw unsupportedSize(field, `the ${pack.name} model pack does not render ${width}x${height}: it takes ${sizesInWords(pack)}`);
  }
  return {
    title: requiredText('title', input.title ?? base?.title ?? '', LIMITS.titleLength),
    style: optionalText('style', input.style ?? base?.style ?? '', LIMITS.nameLength),
    negativePrompt: optionalText('negativePrompt', input.negativePrompt ?? base?.negativePrompt ?? '', LIMITS.negativePromptLength),
    model,
    width,
    height,
    steps: intInRange('steps', input.steps ?? keep('steps') ?? d.steps, STEP_RANGE.min, STEP_RANGE.max),
    guidance: numberInRange('guidance', input.guidance ?? keep('guidance') ?? d.guidance, GUIDANCE_RANGE.min, GUIDANCE_RANGE.max),
    scheduler: oneOf('scheduler', input.scheduler ?? keep('scheduler') ?? d.scheduler, SCHEDULER_NAMES),
    seed: seed('seed', input.seed ?? base?.seed ?? randomInt(0, MAX_SEED)),
  };
}
