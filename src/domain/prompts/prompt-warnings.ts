/**
 * A frame's prompt as the text encoder will see it, and what it lost on the way. The encoder
 * reads a fixed number of tokens and silently drops the rest: with two characters' descriptions
 * in front, "waving on the beach" was cut off, and the frame showed neither. So the parts get a
 * budget in order of what the frame cannot do without: the frame's own prompt first, then the
 * characters' descriptions (sharing what is left evenly; a short one gives its unused share to the
 * others), then the style. The words still go out in reading order (descriptions, the frame's
 * prompt, the style), the order the models were trained on.
 */

/** Counts what a pack's tokenizer would make of a text (src/engine/tokenizer implements it). */
export interface PromptMeter {
  readonly budget: number;
  count(text: string): number;
  unknownWords(text: string): string[];
}

export type PromptWarningCode = 'PROMPT_TRUNCATED' | 'PART_SHORTENED' | 'UNKNOWN_WORDS' | 'STYLE_NO_EFFECT';

export interface PromptWarning {
  /**
   * PROMPT_TRUNCATED: the frame's own prompt is longer than the model reads; its end is lost.
   * PART_SHORTENED: a character's description or the style was cut (or left out) so the frame's prompt fits.
   * UNKNOWN_WORDS: words the model's tokenizer does not know; the model never sees them.
   * STYLE_NO_EFFECT: the story's style is written for other model families; it is left out.
   */
  code: PromptWarningCode;
  message: string;
  /** The words lost. */
  words: string[];
}

export interface PromptParts {
  /** Each shown character's name and identity description, in cast order. */
  characters: readonly { name: string; description: string }[];
  frame: string;
  /** The story's style preset: its template (with `{prompt}`) goes around the rest. */
  style: { name: string; template: string } | null;
}

export interface ComposedPrompt {
  prompt: string;
  warnings: PromptWarning[];
}

export function composePrompt(parts: PromptParts, meter: PromptMeter): ComposedPrompt {
  const warnings: PromptWarning[] = [];
  const words = (text: string) => text.trim().split(/\s+/).filter(Boolean);
  // The longest run of leading words within `allowance` tokens (word by word: a BPE word may be several tokens).
  const fit = (text: string, allowance: number): { kept: string; lost: string[] } => {
    const all = words(text);
    if (meter.count(all.join(' ')) <= allowance) return { kept: all.join(' '), lost: [] };
    // A longer run of words never has fewer tokens: search for the longest one that fits.
    let [lo, hi] = [0, all.length - 1];
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (meter.count(all.slice(0, mid).join(' ')) <= allowance) lo = mid;
      else hi = mid - 1;
    }
    return { kept: all.slice(0, lo).join(' '), lost: all.slice(lo) };
  };

  const frame = fit(parts.frame, meter.budget);
  if (frame.lost.length > 0) {
    warnings.push({ code: 'PROMPT_TRUNCATED', words: frame.lost,
      message: `the frame's prompt is longer than the ${meter.budget} tokens this model reads; lost: "${frame.lost.join(' ')}"` });
  }
  let left = meter.budget - meter.count(frame.kept);

  // Water-filling: every description gets an even share; what a short one leaves goes to the others.
  const need = parts.characters.map((c) => meter.count(c.description));
  const allowance = need.map(() => 0);
  let open = need.map((_, i) => i);
  while (open.length > 0 && left > 0) {
    const share = Math.floor(left / open.length);
    if (share === 0) break;
    for (const i of open) {
      const give = Math.min(share, need[i]! - allowance[i]!);
      allowance[i]! += give;
      left -= give;
    }
    open = open.filter((i) => allowance[i]! < need[i]!);
  }
  const descriptions = parts.characters.map((c, i) => {
    const { kept, lost } = allowance[i]! >= need[i]! ? { kept: c.description.trim(), lost: [] } : fit(c.description, allowance[i]!);
    if (lost.length > 0) {
      warnings.push({ code: 'PART_SHORTENED', words: lost,
        message: `${c.name}'s description was shortened so the frame's prompt fits in ${meter.budget} tokens; lost: "${lost.join(' ')}"` });
    }
    return kept;
  });
  // The style's own words take what is left: the ones before the prompt first, then the ones after.
  const [before, after] = parts.style ? splitTemplate(parts.style.template) : ['', ''];
  let room = meter.budget - meter.count([...descriptions, frame.kept].filter(Boolean).join(' '));
  const pre = fit(before, Math.max(0, room));
  room -= meter.count(pre.kept);
  const post = fit(after, Math.max(0, room));
  const styleLost = [...pre.lost, ...post.lost];
  if (styleLost.length > 0) {
    warnings.push({ code: 'PART_SHORTENED', words: styleLost,
      message: `the style "${parts.style!.name}" was shortened so the frame's prompt fits in ${meter.budget} tokens; lost: "${styleLost.join(' ')}"` });
  }

  const inner = [pre.kept, ...descriptions, frame.kept].filter(Boolean).join(' ');
  // A template's ", detailed" stays attached to the prompt, as its author wrote it.
  const prompt = !post.kept ? inner : !inner || !/^[,.;:!?]/.test(post.kept) ? [inner, post.kept].filter(Boolean).join(' ') : inner + post.kept;
  const unknown = meter.unknownWords(prompt);
  if (unknown.length > 0) {
    warnings.push({ code: 'UNKNOWN_WORDS', words: unknown,
      message: `this model does not know ${unknown.length === 1 ? 'the word' : 'the words'} ${unknown.map((w) => `"${w}"`).join(', ')}; it never sees ${unknown.length === 1 ? 'it' : 'them'}` });
  }
  return { prompt, warnings };
}

/** The template's words before and after `{prompt}`. */
function splitTemplate(template: string): [string, string] {
  const at = template.indexOf('{prompt}');
  return at < 0 ? ['', template] : [template.slice(0, at).trim(), template.slice(at + '{prompt}'.length).trim()];
}
