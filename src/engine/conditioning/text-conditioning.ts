/** One text encoder (story-world, SD1.5, SD2.x): its hidden states are the UNet's context. */
import type { Tensor } from '../tensor';
import { Conditioning, zeroEmptyNegatives } from './conditioning';
import type { PromptEncoder } from './prompt-encoder';

export class TextConditioning implements Conditioning {
  constructor(
    private readonly encoder: PromptEncoder,
    private readonly zerosForEmptyNegative: boolean,
  ) {}

  async encode(negative: readonly string[], positive: readonly string[]): Promise<Record<string, Tensor>> {
    const { hidden } = await this.encoder.encode([...negative, ...positive]);
    if (this.zerosForEmptyNegative) zeroEmptyNegatives(hidden, negative);
    return { encoder_hidden_states: hidden };
  }
}
