/**
 * A script and a character become engine requests: which pictures write the identity bank
 * and which read it, with their prompts and seeds.
 *
 * Identity frames: when the pack gives identity prompt templates (manifest
 * `defaults.identity_prompts`, e.g. "{description} standing in the city"), the bank is
 * written from those, as the platform does for a character's anchor, and every story frame
 * with the character reads it. When the pack's templates are only the description (the
 * default: identity frames would differ in nothing but their seeds), the first frames of
 * the script that show the character are the identity frames, as in StoryDiffusion's app
 * and the model card's evaluation, and the rest read their bank.
 *
 * Prompts: the character description, a space, the frame's prompt (the story world was
 * trained on captions of exactly that form); frames marked [NC] get their prompt alone.
 * Seeds: frame i of the script uses seed + i; identity frames from templates use seed + k;
 * the bank's CSA choices use seed.
 */
import type { ScriptFrame } from '../domain/stories/script-parser';

export interface PlannedFrame {
  /** Position in the script (0-based). */
  index: number;
  prompt: string;
  caption: string;
  seed: number;
  /** Shows the character: reads (or writes) the identity bank. */
  withCharacter: boolean;
}

export interface StoryPlan {
  /** The identity phase, or null when no frame shows the character or CSA is off. */
  anchor: {
    prompts: string[];
    seeds: number[];
    csaSeed: number;
    /** Script positions of the identity frames (from the script), or [] (from the pack's templates). */
    frames: number[];
  } | null;
  frames: PlannedFrame[];
  identitySource: 'pack' | 'script' | 'none';
}

export interface PlanInput {
  frames: readonly ScriptFrame[];
  character: string;
  seed: number;
  identityFrames: number;
  /** The pack's identity prompt templates (`{description}` = the character). */
  identityPrompts: readonly string[];
}

const DESCRIPTION = '{description}';

export function planStory(input: PlanInput): StoryPlan {
  const character = input.character.trim();
  const frames: PlannedFrame[] = input.frames.map((f, i) => ({
    index: i,
    prompt: f.noCharacter ? f.prompt : `${character} ${f.prompt}`,
    caption: f.caption,
    seed: input.seed + i,
    withCharacter: !f.noCharacter,
  }));
  const cast = frames.filter((f) => f.withCharacter);
  const n = input.identityFrames;
  if (n === 0 || cast.length === 0) return { anchor: null, frames, identitySource: 'none' };

  const packGivesPrompts = input.identityPrompts.some((t) => t.trim() !== DESCRIPTION);
  if (packGivesPrompts) {
    const prompts = Array.from({ length: n }, (_, k) => input.identityPrompts[k % input.identityPrompts.length]!.replaceAll(DESCRIPTION, character));
    const seeds = Array.from({ length: n }, (_, k) => input.seed + k);
    return { anchor: { prompts, seeds, csaSeed: input.seed, frames: [] }, frames, identitySource: 'pack' };
  }
  const chosen = cast.slice(0, n);
  return {
    anchor: { prompts: chosen.map((f) => f.prompt), seeds: chosen.map((f) => f.seed), csaSeed: input.seed, frames: chosen.map((f) => f.index) },
    frames,
    identitySource: 'script',
  };
}
