/** Builds a pack's conditioning strategy from its manifest and opened sessions. */
import { DEFAULT_HIDDEN_STATE } from '../pack';
import type { ModelPack, OpenedPack, TextEncoderSpec } from '../pack';
import { TokenizerSpec, loadTokenizer } from '../tokenizer';
import type { Conditioning } from './conditioning';
import { PromptEncoder } from './prompt-encoder';
import { TextConditioning } from './text-conditioning';
import { TextTimeConditioning } from './text-time-conditioning';

export function tokenizerSpec(t: TextEncoderSpec): TokenizerSpec {
  return {
    kind: t.tokenizer, maxLength: t.maxLength,
    ...(t.padToken !== undefined && { padToken: t.padToken }),
    ...(t.bosToken !== undefined && { bosToken: t.bosToken }),
    ...(t.eosToken !== undefined && { eosToken: t.eosToken }),
  };
}

export async function openConditioning(pack: ModelPack, sessions: OpenedPack): Promise<Conditioning> {
  const m = pack.manifest;
  const first = new PromptEncoder(sessions.textEncoder, await loadTokenizer(pack.file('tokenizer'), tokenizerSpec(m.text)),
    { hidden: m.text.hiddenState ?? DEFAULT_HIDDEN_STATE });
  const zeros = m.forceZerosForEmptyPrompt ?? false;
  if (!m.text2 || !m.addTimeIds) return new TextConditioning(first, zeros);
  if (!sessions.textEncoder2) throw new Error(`pack ${m.name}: text_2 is described but text_encoder_2 was not opened`);
  // SDXL's second tokenizer has CLIP's vocabulary; only its padding differs (text_2.pad_token).
  const tokenizer2 = await loadTokenizer(pack.file(m.files.tokenizer_2 !== undefined ? 'tokenizer_2' : 'tokenizer'), tokenizerSpec(m.text2));
  const second = new PromptEncoder(sessions.textEncoder2, tokenizer2, { hidden: m.text2.hiddenState ?? DEFAULT_HIDDEN_STATE, pooled: m.text2.pooled.output });
  return new TextTimeConditioning(first, second, m.addTimeIds, zeros);
}
