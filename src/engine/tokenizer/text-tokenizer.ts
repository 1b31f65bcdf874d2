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
