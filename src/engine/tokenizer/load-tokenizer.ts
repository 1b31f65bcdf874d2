/** Opens a pack's tokenizer.json as the kind its manifest names. */
import { readFile } from 'node:fs/promises';
import { ClipBpeTokenizer } from './clip-bpe-tokenizer';
import { TextTokenizer, TokenizerError, TokenizerKind } from './text-tokenizer';
import { WordTokenizer } from './word-tokenizer';

export const TOKENIZER_KINDS: readonly TokenizerKind[] = ['story-world-words', 'clip-bpe'];

export interface TokenizerSpec {
  kind: string;
  maxLength: number;
  padToken?: string;
  bosToken?: string;
  eosToken?: string;
}

export function tokenizerFromJson(json: unknown, spec: TokenizerSpec): TextTokenizer {
  switch (spec.kind) {
    case 'story-world-words': {
      const t = WordTokenizer.fromJson(json, spec.maxLength);
      return t;
    }
    case 'clip-bpe': {
      const options = { maxLength: spec.maxLength, ...(spec.padToken !== undefined && { padToken: spec.padToken }),
        ...(spec.bosToken !== undefined && { bosToken: spec.bosToken }), ...(spec.eosToken !== undefined && { eosToken: spec.eosToken }) };
      return ClipBpeTokenizer.fromJson(json, options);
    }
    default:
      throw new TokenizerError(`unknown tokenizer "${spec.kind}"; known: ${TOKENIZER_KINDS.join(', ')}`);
  }
}

export async function loadTokenizer(path: string, spec: TokenizerSpec): Promise<TextTokenizer> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new TokenizerError(`cannot read ${path}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new TokenizerError(`${path} is not valid JSON: ${(err as Error).message}`);
  }
  try {
    return tokenizerFromJson(json, spec);
  } catch (err) {
    if (err instanceof TokenizerError) throw new TokenizerError(`${path}: ${err.message}`);
    throw err;
  }
}
