/**
 * One text encoder with its tokenizer: prompts in, the hidden states the UNet's context comes
 * from (and, for SDXL's second encoder, the pooled embedding) out, by output name from the
 * manifest. The input_ids element type is read from the model: optimum exports CLIPTextModel
 * with int32 ids and CLIPTextModelWithProjection with int64.
 */
import type { ModelSession } from '../runtime';
import { Float32Tensor, Tensor, int32 } from '../tensor';
import { TextTokenizer, encodeBatch } from '../tokenizer';

export interface EncoderOutputs {
  hidden: string;
  pooled?: string;
}

export interface EncodedPrompts {
  /** [B, L, H] */
  hidden: Float32Tensor;
  /** [B, P], when the encoder has a pooled output. */
  pooled?: Float32Tensor;
}

function asFloat32(session: ModelSession, name: string, t: Tensor | undefined): Float32Tensor {
  if (!t || t.type !== 'float32') throw new Error(`${session.label}: output ${name} is ${t?.type ?? 'missing'}, expected float32`);
  return t;
}

export class PromptEncoder {
  constructor(
    private readonly session: ModelSession,
    readonly tokenizer: TextTokenizer,
    private readonly outputs: EncoderOutputs,
  ) {}

  async encode(texts: readonly string[]): Promise<EncodedPrompts> {
    const ids = encodeBatch(this.tokenizer, texts);
    const input_ids = this.session.input('input_ids')?.type === 'int32' ? int32(ids.dims, Int32Array.from(ids.data, Number)) : ids;
    const { hidden, pooled } = this.outputs;
    const out = await this.session.run({ input_ids }, { outputs: pooled === undefined ? [hidden] : [hidden, pooled] });
    const result: EncodedPrompts = { hidden: asFloat32(this.session, hidden, out[hidden]) };
    if (pooled !== undefined) result.pooled = asFloat32(this.session, pooled, out[pooled]);
    return result;
  }
}
