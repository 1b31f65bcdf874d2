/**
 * A script and its characters become engine requests: which pictures write each character's
 * identity bank and which read them, with their prompts and seeds.
 *
 * The script is StoryDiffusion's: one frame per non-blank line, the prompt ends at the first
 * `#` (the rest is the caption), `[NC]` marks a frame without characters, `[Name]` tags say
 * which characters are in a frame; a frame without tags shows every character.
 *
 * Prompts (as StoryDiffusion's app makes them): each `[Name]` tag is replaced in place by that
 * character's description; an untagged frame gets every description in front, joined by
 * "and" (one character: the description, a space, the frame's text, the form the story world
 * was trained on). A style's template then goes around the whole prompt.
 *
 * Identity frames, per character: when the pack gives identity prompt templates (manifest
 * `defaults.identity_prompts`, e.g. "{description} standing in the city"), the bank is written
 * from those, as the platform does for a character's anchor. When the pack's templates are
 * only the description (identity frames would differ in nothing but their seeds), the first
 * frames of the script that show the character alone are the identity frames, as in
 * StoryDiffusion's app, and the rest read their banks; a character never alone in a frame has
 * its bank written from its description alone.
 *
 * Seeds: frame i of the script uses seed + i; character c's bank uses seed + c for its CSA
 * choices and seed + c * n + k for its k-th identity frame from templates (n identity frames).
 */
import { AppError } from '../domain/common/errors';
import { parseScript } from '../domain/stories/script-parser';

export interface CastMember {
  /** null: the one unnamed character (a bare --character description). */
  name: string | null;
  description: string;
}

export interface PlannedFrame {
  /** Position in the script (0-based). */
  index: number;
  /** 1-based line in the script. */
  line: number;
  prompt: string;
  caption: string;
  seed: number;
  /** Positions in the cast of the characters shown, in cast order; [] for [NC]. */
  cast: number[];
}

export type IdentitySource = 'pack' | 'script' | 'description';

export interface CharacterAnchor {
  /** Position in the cast. */
  character: number;
  prompts: string[];
  seeds: number[];
  csaSeed: number;
  /** Script positions of the identity frames (source 'script'), or []. */
  frames: number[];
  source: IdentitySource;
}

export interface StoryPlan {
  /** One per character that has a bank, in cast order: none with CSA off, none for a character in no frame. */
  anchors: CharacterAnchor[];
  frames: PlannedFrame[];
}

export interface PlanInput {
  /** The script's text. */
  script: string;
  cast: readonly CastMember[];
  seed: number;
  identityFrames: number;
  /** The pack's identity prompt templates (`{description}` = the character). */
  identityPrompts: readonly string[];
  /** A style template around every prompt (`{prompt}` = the prompt), or null. */
  styleTemplate?: string | null;
}

/** A script that does not parse, or a tag for no character; `line` is 1-based. */
export class ScriptError extends Error {
  constructor(message: string, readonly line: number | null) {
    super(message);
    this.name = 'ScriptError';
  }
}

const DESCRIPTION = '{description}';
const TAG = /\[([^[\]]*)\]/g;

/** The frame's prompt with its tags replaced by descriptions (or every description in front when untagged). */
function framePrompt(raw: string, cast: readonly CastMember[], tagged: boolean, noCharacter: boolean): string {
  const hash = raw.indexOf('#');
  const body = hash === -1 ? raw : raw.slice(0, hash);
  const byName = new Map(cast.filter((c) => c.name !== null).map((c) => [c.name!.toLowerCase(), c]));
  const text = body.replace(TAG, (_m, inner: string) => {
    const tag = inner.trim();
    if (tag.toUpperCase() === 'NC') return ' ';
    return ` ${byName.get(tag.toLowerCase())!.description.trim()} `;
  }).replace(/\s+/g, ' ').trim();
  if (noCharacter || tagged) return text;
  return `${cast.map((c) => c.description.trim()).join(' and ')} ${text}`.trim();
}

function styled(prompt: string, template: string | null | undefined): string {
  if (!template) return prompt;
  return template.includes('{prompt}') ? template.replace('{prompt}', prompt) : `${prompt} ${template}`;
}

export function planStory(input: PlanInput): StoryPlan {
  const names = input.cast.flatMap((c) => (c.name === null ? [] : [c.name]));
  let parsed;
  try {
    parsed = parseScript(input.script, names);
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    const line = /^line (\d+):/.exec(err.message);
    const unknown = /\[([^\]]*)\] is not in the story's cast/.exec(err.message);
    let message = err.message;
    if (unknown) {
      message = message.replace(/\[[^\]]*\] is not in the story's cast/, names.length > 0
        ? `[${unknown[1]}] is not one of the characters (${names.join(', ')}); tag frames with their names or [NC]`
        : `[${unknown[1]}] names no character: give characters as --character "${unknown[1]}=<description>", or mark the frame [NC]`);
    }
    throw new ScriptError(message, line ? Number(line[1]) : null);
  }
  const lines = input.script.split(/\r?\n/);
  const position = new Map(input.cast.map((c, i) => [(c.name ?? '').toLowerCase(), i]));
  const frames: PlannedFrame[] = parsed.map((f, i) => {
    const cast = f.noCharacter ? [] : f.characterNames === null ? input.cast.map((_, c) => c)
      : f.characterNames.map((n) => position.get(n.toLowerCase())!).sort((a, b) => a - b);
    return {
      index: i,
      line: f.line,
      prompt: styled(framePrompt(lines[f.line - 1]!, input.cast, f.characterNames !== null, f.noCharacter), input.styleTemplate),
      caption: f.caption,
      seed: input.seed + i,
      cast,
    };
  });

  const n = input.identityFrames;
  const anchors: CharacterAnchor[] = [];
  if (n === 0) return { anchors, frames };
  const packGivesPrompts = input.identityPrompts.some((t) => t.trim() !== DESCRIPTION);
  input.cast.forEach((member, c) => {
    if (!frames.some((f) => f.cast.includes(c))) return;
    const description = member.description.trim();
    const csaSeed = input.seed + c;
    const ownSeeds = Array.from({ length: n }, (_, k) => input.seed + c * n + k);
    if (packGivesPrompts) {
      const prompts = ownSeeds.map((_, k) => styled(input.identityPrompts[k % input.identityPrompts.length]!.replaceAll(DESCRIPTION, description), input.styleTemplate));
      anchors.push({ character: c, prompts, seeds: ownSeeds, csaSeed, frames: [], source: 'pack' });
      return;
    }
    const alone = frames.filter((f) => f.cast.length === 1 && f.cast[0] === c).slice(0, n);
    if (alone.length > 0) {
      anchors.push({ character: c, prompts: alone.map((f) => f.prompt), seeds: alone.map((f) => f.seed), csaSeed, frames: alone.map((f) => f.index), source: 'script' });
      return;
    }
    anchors.push({ character: c, prompts: ownSeeds.map(() => styled(description, input.styleTemplate)), seeds: ownSeeds, csaSeed, frames: [], source: 'description' });
  });
  return { anchors, frames };
}
