export { TokenizerError, encodeBatch } from './text-tokenizer';
export type { TextTokenizer, TokenizerKind } from './text-tokenizer';
export { WordTokenizer } from './word-tokenizer';
export type { WordTokenizerJson } from './word-tokenizer';
export { ClipBpeTokenizer } from './clip-bpe-tokenizer';
export type { ClipTokenizerOptions } from './clip-bpe-tokenizer';
export { TOKENIZER_KINDS, loadTokenizer, tokenizerFromJson } from './load-tokenizer';
export type { TokenizerSpec } from './load-tokenizer';
