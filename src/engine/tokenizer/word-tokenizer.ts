/**
 * The story-world word tokenizer (models/story-world/world.py: tokenize, tokenizer_json):
 * lower-case, words are runs of the word pattern ([a-z0-9]+; anything else separates them),
 * <bos> words <eos> with at most maxLength - 1 tokens before <eos>, unknown words <unk>,
 * padded with <pad>.
 */
import { TextTokenizer, TokenizerError } from './text-tokenizer';

export interface WordTokenizerJson {
  type: 'story-world-words';
  lowercase: boolean;
  word_pattern: string;
  max_length: number;
  pad: string;
  bos: string;
  eos: string;
  unk: string;
  vocab: string[];
}

export class WordTokenizer implements TextTokenizer {
  readonly kind = 'story-world-words';
  private readonly index: Map<string, number>;
  private readonly pattern: RegExp;
  private readonly special: { pad: number; bos: number; eos: number; unk: number };

  private constructor(private readonly json: WordTokenizerJson, readonly maxLength: number) {
    this.index = new Map(json.vocab.map((w, i) => [w, i]));
    this.pattern = new RegExp(json.word_pattern, 'g');
    const id = (key: 'pad' | 'bos' | 'eos' | 'unk') => {
      const v = this.index.get(json[key]);
      if (v === undefined) throw new TokenizerError(`tokenizer.json: the ${key} token ${JSON.stringify(json[key])} is not in the vocabulary`);
      return v;
    };
    this.special = { pad: id('pad'), bos: id('bos'), eos: id('eos'), unk: id('unk') };
  }

  static fromJson(raw: unknown, maxLength?: number): WordTokenizer {
    const j = raw as Partial<WordTokenizerJson> | null;
    if (!j || typeof j !== 'object' || j.type !== 'story-world-words') {
      throw new TokenizerError(`tokenizer.json: expected type "story-world-words", got ${JSON.stringify(j?.type)}`);
    }
    if (!Array.isArray(j.vocab) || j.vocab.some((w) => typeof w !== 'string')) throw new TokenizerError('tokenizer.json: vocab must be a list of words');
    if (typeof j.word_pattern !== 'string') throw new TokenizerError('tokenizer.json: word_pattern is missing');
    if (typeof j.lowercase !== 'boolean') throw new TokenizerError('tokenizer.json: lowercase must be true or false');
    const length = maxLength ?? j.max_length;
    if (!Number.isInteger(length) || length! < 2) throw new TokenizerError(`tokenizer.json: max_length must be an integer >= 2, got ${JSON.stringify(length)}`);
    return new WordTokenizer(j as WordTokenizerJson, length!);
  }

  get budget(): number {
    return this.maxLength - 2;
  }

  private words(text: string): string[] {
    return [...(this.json.lowercase ? text.toLowerCase() : text).matchAll(this.pattern)].map((m) => m[0]);
  }

  count(text: string): number {
    return this.words(text).length;
  }

  unknownWords(text: string): string[] {
    return [...new Set(this.words(text).filter((w) => !this.index.has(w)))];
  }

  encode(text: string): number[] {
    const source = this.json.lowercase ? text.toLowerCase() : text;
    const ids = [this.special.bos];
    for (const m of source.matchAll(this.pattern)) ids.push(this.index.get(m[0]) ?? this.special.unk);
    const out = [...ids.slice(0, this.maxLength - 1), this.special.eos];
    while (out.length < this.maxLength) out.push(this.special.pad);
    return out;
  }
}
