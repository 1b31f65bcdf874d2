/**
 * How prompts become UNet inputs, one strategy per model family's conditioning (as diffusers
 * keeps one encode_prompt per pipeline): the denoising loop spreads whatever feeds it gets and
 * never asks which family it runs.
 *
 * - TextConditioning (story-world, SD1.5, SD2.x): one text encoder -> encoder_hidden_states;
 * - TextTimeConditioning (SDXL): two encoders' hidden states side by side ->
 *   encoder_hidden_states, the second's pooled output -> text_embeds, and time_ids.
 *
 * The manifest's description (text_2, add_time_ids), checked against the UNet's inputs when the
 * pack is opened, picks the strategy; a family name alone never does.
 */
import type { Float32Tensor, Tensor } from '../tensor';

/** Pixels of the rendered image. */
export interface ImageSize {
  height: number;
  width: number;
}

export interface Conditioning {
  /**
   * The UNet feeds that carry the prompts for one batch laid out [negatives..., positives...]
   * (classifier-free guidance's two halves); the same at every step.
   */
  encode(negative: readonly string[], positive: readonly string[], image: ImageSize): Promise<Record<string, Tensor>>;
}

/**
 * diffusers' force_zeros_for_empty_prompt: a negative row whose prompt is empty conditions on
 * zeros rather than on the encoded empty string. Rows [0, negatives.length) are the negatives.
 */
export function zeroEmptyNegatives(t: Float32Tensor, negatives: readonly string[]): void {
  const per = t.data.length / t.dims[0]!;
  negatives.forEach((n, i) => {
    if (n === '') t.data.fill(0, i * per, (i + 1) * per);
  });
}
