/** How frames and anchors become engine inputs: prompts, negative prompts, seeds, recipes. */
import type { Character } from '../../db/entities/character.entity';
import type { AnchorRecipeJson, AnchorReference } from '../../db/entities/character-anchor.entity';
import type { Frame } from '../../db/entities/frame.entity';
import type { Story } from '../../db/entities/story.entity';
import type { PackInfo } from '../../packs/pack-registry';
import { MAX_SEED } from '../common/validation';
import { ComposedPrompt, PromptMeter, composePrompt } from '../prompts/prompt-warnings';
import type { StylePreset } from '../styles/built-in-styles';

/** Whether a style is written for the pack's family (a style for no family in particular suits all). */
export function styleApplies(style: StylePreset, pack: PackInfo): boolean {
  return style.families.length === 0 || style.families.includes(pack.family);
}

/**
 * Characters' identity descriptions, then the frame's own prompt, inside the story's style
 * template, within the pack's token budget. A style written for other families is left out.
 */
export function framePrompt(frame: Pick<Frame, 'prompt'>, characters: readonly Pick<Character, 'name' | 'description'>[], style: StylePreset | null,
  pack: PackInfo, meter: PromptMeter, prompt = frame.prompt): ComposedPrompt {
  const applies = style !== null && styleApplies(style, pack);
  const composed = composePrompt({ characters, frame: prompt, style: applies ? style : null }, meter);
  if (style && !applies) {
    composed.warnings.push({ code: 'STYLE_NO_EFFECT', words: [],
      message: `the style "${style.name}" is written for ${style.families.join(', ')} models; ${pack.name} (${pack.family}) does not read it, so it is left out` });
  }
  return composed;
}

/**
 * The negative prompt, most specific first: the frame's, the story's, the style's (when it
 * applies), each shown character's, then the pack's default. Empty parts drop out.
 */
export function negativePrompt(frame: Pick<Frame, 'negativePrompt'>, story: Pick<Story, 'negativePrompt'>, style: StylePreset | null,
  characters: readonly Pick<Character, 'negativePrompt'>[], pack: PackInfo): string {
  return [frame.negativePrompt, story.negativePrompt, style && styleApplies(style, pack) ? style.negativePrompt : '',
    ...characters.map((c) => c.negativePrompt), pack.manifest.defaults.negativePrompt]
    .map((p) => p.trim()).filter(Boolean).join(', ');
}

/** An identity frame's negative prompt: the character's, then the pack's default. */
export function identityNegativePrompt(character: Pick<Character, 'negativePrompt'>, pack: PackInfo): string {
  return [character.negativePrompt, pack.manifest.defaults.negativePrompt].map((p) => p.trim()).filter(Boolean).join(', ');
}

/** A frame without its own seed takes the story's seed offset by its position. */
export function frameSeed(frame: Pick<Frame, 'seed' | 'position'>, story: Pick<Story, 'seed'>): number {
  return frame.seed ?? (story.seed + frame.position) % (MAX_SEED + 1);
}

/**
 * The anchor recipe: the pack's identity-frame templates with the character's description,
 * one seed per frame counted up from the character's seed, its sampling rate and CSA seed. With
 * reference images, the bank is written from them instead: each with the description as its
 * prompt (what a reference shows is the character, whatever it does there).
 */
export function anchorRecipe(character: Character, pack: PackInfo, references: readonly AnchorReference[] = []): AnchorRecipeJson {
  if (references.length > 0) {
    return {
      prompts: references.map(() => character.description.trim()),
      negativePrompt: identityNegativePrompt(character, pack),
      seeds: [],
      rate: character.samplingRate ?? pack.manifest.csa?.defaultRate ?? 0.5,
      csaSeed: character.seed,
      references: [...references],
    };
  }
  const templates = pack.manifest.defaults.identityPrompts;
  const n = character.identityFrames;
  return {
    prompts: Array.from({ length: n }, (_, i) => templates[i % templates.length]!.replaceAll('{description}', character.description.trim())),
    negativePrompt: identityNegativePrompt(character, pack),
    seeds: Array.from({ length: n }, (_, i) => (character.seed + i) % (MAX_SEED + 1)),
    rate: character.samplingRate ?? pack.manifest.csa?.defaultRate ?? 0.5,
    csaSeed: character.seed,
    // In the recipe, so a bank made before the pack set it is not taken for one made after.
    ...(pack.manifest.csa?.identityGuidance != null && { identityGuidance: pack.manifest.csa.identityGuidance }),
  };
}
