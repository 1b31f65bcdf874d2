/**
 * What the text encoder needs: every prompt becomes exactly `maxLength` token ids (special
 * tokens and padding included), as int64, the type both CLIP and our encoder take.
 */
import { Int64Tensor, int64 } from '../tensor';

export interface TextTokenizer {
  readonly kind: TokenizerKind;
  readonly maxLength: number;
  /** Token ids of one prompt, padded or truncated to maxLength. */
  encode(text: string): number[];
  /** Tokens of the text itself (no begin, end or padding): what counts against `budget`. */
  count(text: string): number;
  /** Tokens of a prompt the encoder sees before it truncates: maxLength less the begin and end tokens. */
  readonly budget: number;
  /** Words the tokenizer has no token for (the model never sees them), in order, once each. */
  unknownWords(text: string): string[];
}

export type TokenizerKind = 'story-world-words' | 'clip-bpe';

export class TokenizerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TokenizerError';
  }
}

/** [B, maxLength] int64 input_ids for a batch of prompts. */
export function encodeBatch(tokenizer: TextTokenizer, texts: readonly string[]): Int64Tensor {
  return int64([texts.length, tokenizer.maxLength], texts.flatMap((t) => tokenizer.encode(t)));
}
