/**
 * SDXL (diffusers' addition_embed_type "text_time"), as StableDiffusionXLPipeline.encode_prompt
 * does it: each prompt goes through both text encoders; their chosen hidden states (the
 * penultimate layers) are joined along the channel axis into encoder_hidden_states
 * ([B, 77, 768 + 1280]); the second encoder's pooled projection is text_embeds; time_ids is the
 * same for both guidance halves.
 */
import type { AddTimeIdsSpec } from '../pack';
import { Float32Tensor, Tensor, float32 } from '../tensor';
import { Conditioning, ImageSize, zeroEmptyNegatives } from './conditioning';
import type { PromptEncoder } from './prompt-encoder';
import { timeIds } from './time-ids';

/** [B, L, H1] and [B, L, H2] -> [B, L, H1 + H2]. */
export function concatChannels(a: Float32Tensor, b: Float32Tensor): Float32Tensor {
  const [B, L, H1] = a.dims as [number, number, number];
  const H2 = b.dims[2]!;
  if (b.dims[0] !== B || b.dims[1] !== L) throw new RangeError(`cannot join hidden states [${a.dims.join(', ')}] and [${b.dims.join(', ')}]`);
  const out = float32([B, L, H1 + H2]);
  for (let r = 0; r < B * L; r++) {
    out.data.set(a.data.subarray(r * H1, (r + 1) * H1), r * (H1 + H2));
    out.data.set(b.data.subarray(r * H2, (r + 1) * H2), r * (H1 + H2) + H1);
  }
  return out;
}

export class TextTimeConditioning implements Conditioning {
  constructor(
    private readonly first: PromptEncoder,
    /** Must have a pooled output. */
    private readonly second: PromptEncoder,
    private readonly addTimeIds: AddTimeIdsSpec,
    private readonly zerosForEmptyNegative: boolean,
  ) {}

  async encode(negative: readonly string[], positive: readonly string[], image: ImageSize): Promise<Record<string, Tensor>> {
    const texts = [...negative, ...positive];
    const one = await this.first.encode(texts);
    const two = await this.second.encode(texts);
    if (!two.pooled) throw new Error('SDXL conditioning: the second text encoder gave no pooled output');
    const context = concatChannels(one.hidden, two.hidden);
    const pooled = two.pooled;
    if (this.zerosForEmptyNegative) {
      zeroEmptyNegatives(context, negative);
      zeroEmptyNegatives(pooled, negative);
    }
    const ids = timeIds(this.addTimeIds, image);
    const rows = texts.length;
    const time = float32([rows, ids.length]);
    for (let r = 0; r < rows; r++) time.data.set(ids, r * ids.length);
    return { encoder_hidden_states: context, text_embeds: pooled, time_ids: time };
  }
}
