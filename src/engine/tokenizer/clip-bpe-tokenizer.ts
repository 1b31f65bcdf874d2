/**
 * CLIP's byte-level BPE from a Hugging Face tokenizer.json, through @huggingface/tokenizers
 * (the pure-JS tokenizer library of transformers.js, maintained by Hugging Face, no native
 * code, no network). Real SD packs bring the tokenizer.json of their text encoder (SD1.5:
 * openai/clip-vit-large-patch14; SDXL: both of its encoders).
 *
 * The library tokenizes; the fixed-length framing diffusers asks for
 * (padding="max_length", truncation=True) is done here: <bos> + at most maxLength - 2 tokens +
 * <eos>, padded with the pad token (SD1.5: <|endoftext|>; SDXL's second encoder: "!").
 */
import type { Tokenizer } from '@huggingface/tokenizers' with { 'resolution-mode': 'import' };
import { TextTokenizer, TokenizerError } from './text-tokenizer';

// The package ships a CommonJS build (its "require" export) but only ESM type declarations,
// so the types are imported as ESM and the code is required.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const hf = require('@huggingface/tokenizers') as { Tokenizer: typeof Tokenizer };

export interface ClipTokenizerOptions {
  maxLength: number;
  /** Defaults to the end-of-text token, as in SD1.5's CLIP tokenizer. */
  padToken?: string;
  /** Default: the post-processor's cls / sep tokens (<|startoftext|> / <|endoftext|>). */
  bosToken?: string;
  eosToken?: string;
}

interface HfTokenizerJson {
  model?: { type?: string };
  post_processor?: { type?: string; cls?: [string, number]; sep?: [string, number]; single?: { SpecialToken?: { id: string } }[] };
}

function specialFromPostProcessor(json: HfTokenizerJson): { bos?: string; eos?: string } {
  const pp = json.post_processor;
  if (!pp) return {};
  if (pp.cls && pp.sep) return { bos: pp.cls[0], eos: pp.sep[0] };
  // TemplateProcessing: [SpecialToken bos, Sequence A, SpecialToken eos]
  const specials = (pp.single ?? []).filter((s) => s.SpecialToken).map((s) => s.SpecialToken!.id);
  return specials.length === 2 ? { bos: specials[0], eos: specials[1] } : {};
}

export class ClipBpeTokenizer implements TextTokenizer {
  readonly kind = 'clip-bpe';
  readonly maxLength: number;
  readonly bosId: number;
  readonly eosId: number;
  readonly padId: number;

  private constructor(private readonly tokenizer: Tokenizer, ids: { bos: number; eos: number; pad: number }, maxLength: number) {
    this.maxLength = maxLength;
    this.bosId = ids.bos;
    this.eosId = ids.eos;
    this.padId = ids.pad;
  }

  static fromJson(raw: unknown, options: ClipTokenizerOptions): ClipBpeTokenizer {
    const json = raw as HfTokenizerJson | null;
    if (!json || typeof json !== 'object' || json.model?.type !== 'BPE') {
      throw new TokenizerError(`tokenizer.json: expected a Hugging Face tokenizer with a BPE model, got model type ${JSON.stringify(json?.model?.type)}`);
    }
    if (!Number.isInteger(options.maxLength) || options.maxLength < 2) throw new TokenizerError(`max_length must be an integer >= 2, got ${options.maxLength}`);
    let tokenizer: Tokenizer;
    try {
      tokenizer = new hf.Tokenizer(json, {});
    } catch (err) {
      throw new TokenizerError(`tokenizer.json: ${(err as Error).message}`);
    }
    const fromPp = specialFromPostProcessor(json);
    const bos = options.bosToken ?? fromPp.bos;
    const eos = options.eosToken ?? fromPp.eos;
    if (!bos || !eos) throw new TokenizerError('tokenizer.json: cannot tell the begin/end tokens (no cls/sep post-processor); set text.bos_token and text.eos_token in the manifest');
    const pad = options.padToken ?? eos;
    const id = (token: string, what: string) => {
      const v = tokenizer.token_to_id(token);
      if (v === undefined) throw new TokenizerError(`tokenizer.json: the ${what} token ${JSON.stringify(token)} is not in the vocabulary`);
      return v;
    };
    return new ClipBpeTokenizer(tokenizer, { bos: id(bos, 'begin'), eos: id(eos, 'end'), pad: id(pad, 'pad') }, options.maxLength);
  }

  /** Token ids of the text without special tokens. */
  tokenIds(text: string): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: false }).ids;
  }

  get budget(): number {
    return this.maxLength - 2;
  }

  count(text: string): number {
    return this.tokenIds(text).length;
  }

  /** Byte-level BPE spells any word with some tokens: none is unknown. */
  unknownWords(): string[] {
    return [];
  }

  encode(text: string): number[] {
    const ids = [this.bosId, ...this.tokenIds(text).slice(0, this.maxLength - 2), this.eosId];
    while (ids.length < this.maxLength) ids.push(this.padId);
    return ids;
  }
}
