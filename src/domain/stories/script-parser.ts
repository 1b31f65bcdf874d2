import { badInput } from '../common/errors';
import { LIMITS } from '../common/validation';

export interface ScriptFrame {
  /** 1-based line number in the script, for error messages. */
  line: number;
  prompt: string;
  caption: string;
  noCharacter: boolean;
  /** Cast names (as spelled in the cast) that appear; null means the whole cast. */
  characterNames: string[] | null;
}

const TAG = /\[([^[\]]*)\]/g;
const NO_CHARACTER = 'NC';

/**
 * Parses StoryDiffusion's frame script: one frame per non-blank line; the prompt ends at the
 * first `#` and the rest of the line is the caption (which may hold `#` itself); `[NC]` marks a frame with no character; `[Name]` tags say which cast
 * characters appear (default: all of the cast) and read as the bare name in the prompt.
 * Every error names its line and is reported against `field`.
 */
export function parseScript(script: string, castNames: readonly string[], field = 'script'): ScriptFrame[] {
  if (script.length > LIMITS.scriptLength) throw badInput(field, `${field} is longer than ${LIMITS.scriptLength} characters`);
  const cast = new Map(castNames.map((name) => [name.toLowerCase(), name]));
  const frames: ScriptFrame[] = [];
  script.split(/\r?\n/).forEach((raw, index) => {
    const frame = parseLine(raw, index + 1, cast, field);
    if (frame) frames.push(frame);
  });
  if (frames.length > LIMITS.framesPerStory) {
    throw badInput(field, `${field} has ${frames.length} frames; a story holds at most ${LIMITS.framesPerStory}`);
  }
  return frames;
}

function parseLine(raw: string, line: number, cast: Map<string, string>, field: string): ScriptFrame | null {
  if (raw.trim() === '') return null;
  const fail = (message: string) => badInput(field, `line ${line}: ${message}`);
  const hash = raw.indexOf('#');
  const body = hash === -1 ? raw : raw.slice(0, hash);
  const caption = hash === -1 ? '' : raw.slice(hash + 1).trim();

  let noCharacter = false;
  const names: string[] = [];
  const prompt = body
    .replace(TAG, (_match, inner: string) => {
      const tag = inner.trim();
      if (tag === '') throw fail('empty [] tag');
      if (tag.toUpperCase() === NO_CHARACTER) {
        noCharacter = true;
        return '';
      }
      const name = cast.get(tag.toLowerCase());
      if (!name) throw fail(`[${tag}] is not in the story's cast`);
      if (!names.includes(name)) names.push(name);
      return name;
    })
    .replace(/\s+/g, ' ')
    .trim();

  if (/[[\]]/.test(prompt)) throw fail('unbalanced [ or ]');
  if (noCharacter && names.length > 0) throw fail('[NC] cannot be combined with character names');
  if (prompt === '') throw fail('the prompt is empty');
  if (prompt.length > LIMITS.promptLength) throw fail(`the prompt is longer than ${LIMITS.promptLength} characters`);
  if (caption.length > LIMITS.captionLength) throw fail(`the caption is longer than ${LIMITS.captionLength} characters`);
  return { line, prompt, caption, noCharacter, characterNames: noCharacter || names.length === 0 ? null : names };
}
