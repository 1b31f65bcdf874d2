/** How frames and anchors become engine inputs: prompts, negative prompts, seeds, recipes. */
import type { Character } from '../../db/entities/character.entity';
import type { AnchorRecipeJson } from '../../db/entities/character-anchor.entity';
import type { Frame } from '../../db/entities/frame.entity';
import type { Story } from '../../db/entities/story.entity';
import type { PackInfo } from '../../packs/pack-registry';
import { MAX_SEED } from '../common/validation';
import { ComposedPrompt, PromptMeter, composePrompt } from '../prompts/prompt-warnings';

/** Characters' identity descriptions, then the frame's own prompt, then the story's style, within the pack's token budget. */
export function framePrompt(frame: Pick<Frame, 'prompt'>, characters: readonly Pick<Character, 'name' | 'description'>[], story: Pick<Story, 'style'>,
  meter: PromptMeter, prompt = frame.prompt): ComposedPrompt {
  return composePrompt({ characters, frame: prompt, style: story.style }, meter);
}

export function negativePrompt(characters: readonly Pick<Character, 'negativePrompt'>[], pack: PackInfo): string {
  return [pack.manifest.defaults.negativePrompt, ...characters.map((c) => c.negativePrompt)].map((p) => p.trim()).filter(Boolean).join(', ');
}

/** A frame without its own seed takes the story's seed offset by its position. */
export function frameSeed(frame: Pick<Frame, 'seed' | 'position'>, story: Pick<Story, 'seed'>): number {
  return frame.seed ?? (story.seed + frame.position) % (MAX_SEED + 1);
}

/**
 * The anchor recipe: the pack's identity-frame templates with the character's description,
 * one seed per frame counted up from the character's seed, its sampling rate and CSA seed.
 */
export function anchorRecipe(character: Character, pack: PackInfo): AnchorRecipeJson {
  const templates = pack.manifest.defaults.identityPrompts;
  const n = character.identityFrames;
  return {
    prompts: Array.from({ length: n }, (_, i) => templates[i % templates.length]!.replaceAll('{description}', character.description.trim())),
    negativePrompt: negativePrompt([character], pack),
    seeds: Array.from({ length: n }, (_, i) => (character.seed + i) % (MAX_SEED + 1)),
    rate: character.samplingRate ?? pack.manifest.csa?.defaultRate ?? 0.5,
    csaSeed: character.seed,
  };
}
