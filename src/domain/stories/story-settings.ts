import { randomInt } from 'node:crypto';
import { SCHEDULERS, Scheduler } from '../../db/entities/story.entity';
import type { PackInfo } from '../../packs/pack-registry';
import { badInput } from '../common/errors';
import { LIMITS, MAX_SEED, intInRange, numberInRange, oneOf, optionalText, requiredText, seed } from '../common/validation';

export interface StorySettingsInput {
  title?: string | null;
  style?: string | null;
  width?: number | null;
  height?: number | null;
  steps?: number | null;
  guidance?: number | null;
  scheduler?: string | null;
  seed?: number | null;
}

export interface StorySettings {
  title: string;
  style: string;
  width: number;
  height: number;
  steps: number;
  guidance: number;
  scheduler: Scheduler;
  seed: number;
}

/** Defaults for a new story when no model pack is installed; a pack's manifest gives its own. */
export const STORY_DEFAULTS = { width: 512, height: 512, steps: 25, guidance: 7.5, scheduler: 'ddim' as Scheduler };

const ENGINE_SCHEDULERS: Record<string, Scheduler> = { ddim: 'ddim', euler_ancestral: 'euler_a', dpmpp_2m: 'dpmpp_2m' };

/** A story's defaults from the pack it renders with: its display size, steps, guidance and scheduler. */
export function packDefaults(pack: PackInfo | undefined): typeof STORY_DEFAULTS {
  if (!pack) return STORY_DEFAULTS;
  const d = pack.manifest.defaults;
  return { width: pack.width, height: pack.height, steps: d.steps, guidance: d.guidance, scheduler: ENGINE_SCHEDULERS[d.scheduler] ?? 'ddim' };
}

/**
 * Validates a story's settings, defaulting from `pack` (the model pack its frames render with).
 * The engine renders at the pack's native sample size, so a pack fixes the width and height.
 */
export function storySettings(input: StorySettingsInput, base?: StorySettings, pack?: PackInfo): StorySettings {
  const defaults = packDefaults(pack);
  const size = (field: 'width' | 'height') => {
    const value = intInRange(field, input[field] ?? base?.[field] ?? defaults[field], 32, 2048);
    if (value % 8 !== 0) throw badInput(field, `${field} must be a multiple of 8`);
    if (pack && (input[field] != null || !base) && value !== pack[field]) throw badInput(field, `${field} must be ${pack[field]}: the ${pack.name} model pack renders ${pack.width}x${pack.height}`);
    return value;
  };
  return {
    title: requiredText('title', input.title ?? base?.title ?? '', LIMITS.titleLength),
    style: optionalText('style', input.style ?? base?.style ?? '', LIMITS.styleLength),
    width: size('width'),
    height: size('height'),
    steps: intInRange('steps', input.steps ?? base?.steps ?? defaults.steps, 1, 150),
    guidance: numberInRange('guidance', input.guidance ?? base?.guidance ?? defaults.guidance, 0, 30),
    scheduler: oneOf('scheduler', input.scheduler ?? base?.scheduler ?? defaults.scheduler, SCHEDULERS),
    seed: seed('seed', input.seed ?? base?.seed ?? randomInt(0, MAX_SEED)),
  };
}
