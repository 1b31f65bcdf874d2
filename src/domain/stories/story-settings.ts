import { randomInt } from 'node:crypto';
import { SCHEDULERS, Scheduler } from '../../db/entities/story.entity';
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

/** Defaults for a new story; the engine's model packs may narrow sizes further at generation time. */
export const STORY_DEFAULTS = { width: 512, height: 512, steps: 25, guidance: 7.5, scheduler: 'ddim' as Scheduler };

export function storySettings(input: StorySettingsInput, base?: StorySettings): StorySettings {
  const size = (field: 'width' | 'height') => {
    const value = intInRange(field, input[field] ?? base?.[field] ?? STORY_DEFAULTS[field], 32, 2048);
    if (value % 8 !== 0) throw badInput(field, `${field} must be a multiple of 8`);
    return value;
  };
  return {
    title: requiredText('title', input.title ?? base?.title ?? '', LIMITS.titleLength),
    style: optionalText('style', input.style ?? base?.style ?? '', LIMITS.styleLength),
    width: size('width'),
    height: size('height'),
    steps: intInRange('steps', input.steps ?? base?.steps ?? STORY_DEFAULTS.steps, 1, 150),
    guidance: numberInRange('guidance', input.guidance ?? base?.guidance ?? STORY_DEFAULTS.guidance, 0, 30),
    scheduler: oneOf('scheduler', input.scheduler ?? base?.scheduler ?? STORY_DEFAULTS.scheduler, SCHEDULERS),
    seed: seed('seed', input.seed ?? base?.seed ?? randomInt(0, MAX_SEED)),
  };
}
