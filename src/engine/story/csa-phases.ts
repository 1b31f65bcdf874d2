/**
 * What the patched UNet is fed at each step, one strategy per phase of StoryDiffusion's CSA.
 * A batch is laid out half by half, [uncond frames..., cond frames...] with guidance or the
 * cond frames alone without it; the guidance halves only ever share within themselves, which
 * is why dropping the uncond half leaves the cond half's pictures unchanged.
 *
 * - plain: zero-length CSA feeds, the patched graph computes the original one;
 * - identity write: each identity frame borrows the sampled tokens of the *other* identity
 *   frames of its half through `csa_index` (gathered inside the graph), and the sampled
 *   tokens of every identity frame come back through `csa_tokens` into the bank;
 * - bank read: every frame prepends its characters' bank tokens through `csa_bank`.
 */
import { CsaLayerPatch, plainCsaFeeds, plainLayerFeeds } from '../csa';
import { Tensor, float32, int64 } from '../tensor';
import type { CsaPlan } from './csa-plan';
import { IdentityBank } from './identity-bank';

/** A classifier-free-guidance half of a UNet batch; banks keep tokens for both, in this order. */
export type GuidanceHalf = 'uncond' | 'cond';

export const BOTH_HALVES: readonly GuidanceHalf[] = ['uncond', 'cond'];
export const COND_HALF: readonly GuidanceHalf[] = ['cond'];

/** A bank's block index of a half: its tokens are stored [uncond, cond]. */
function bankHalf(h: GuidanceHalf): number {
  return h === 'uncond' ? 0 : 1;
}

export interface CsaPhase {
  /**
   * CSA feeds for the UNet run of step `step` over `frames` frames in each of `halves`, in
   * that order (frames x halves.length rows).
   */
  feeds(step: number, frames: number, halves: readonly GuidanceHalf[]): Record<string, Tensor>;
  /** Outputs to ask the UNet for, besides the noise prediction. */
  outputs(step: number): string[];
  /** Takes the outputs of step `step`. */
  collect(step: number, outputs: Record<string, Tensor>): void;
}

export class PlainAttention implements CsaPhase {
  constructor(private readonly layers: readonly CsaLayerPatch[]) {}

  feeds(_step: number, frames: number, halves: readonly GuidanceHalf[]): Record<string, Tensor> {
    return plainCsaFeeds(this.layers, frames * halves.length);
  }

  outputs(): string[] {
    return [];
  }

  collect(): void {}
}

function requireTokens(layer: CsaLayerPatch): number {
  if (layer.tokens === null) throw new Error(`CSA layer ${layer.name}: token count unknown (the pack manifest must list it)`);
  return layer.tokens;
}

export class IdentityWrite implements CsaPhase {
  constructor(
    private readonly layers: readonly CsaLayerPatch[],
    private readonly plan: CsaPlan,
    /** Identity frames per half. */
    private readonly frames: number,
    /**
     * Receives the tokens; its header must list `layers` in the same order. Null: the frames
     * share, nothing is kept (the bank is written from the finished frames afterwards).
     */
    readonly bank: IdentityBank | null,
  ) {}

  feeds(step: number, frames: number, halves: readonly GuidanceHalf[]): Record<string, Tensor> {
    const n = this.frames;
    if (frames !== n) throw new RangeError(`identity phase over ${n} frames got a batch of ${frames} frames per half`);
    // The bank's layout is [uncond, cond]: a half missing from the batch would leave a hole in it.
    if (this.bank && halves.join() !== BOTH_HALVES.join()) throw new RangeError(`an identity phase that keeps a bank needs both guidance halves, got [${halves.join(', ')}]`);
    const batch = n * halves.length;
    const out: Record<string, Tensor> = {};
    this.layers.forEach((layer, li) => {
      const N = requireTokens(layer);
      const idx = this.plan.indices[step]!.get(N)!;
      const m = idx[0]?.length ?? 0;
      const row = (half: number, frame: number, token: number) => (half * n + frame) * N + token;
      const store: number[] = [];
      for (let h = 0; h < halves.length; h++) for (let j = 0; j < n; j++) for (const t of idx[j]!) store.push(row(h, j, t));
      const apply = this.plan.apply[step]![li]!;
      const E = apply ? (n - 1) * m : 0;
      const borrow = new BigInt64Array(batch * E);
      if (apply) {
        let at = 0;
        for (let h = 0; h < halves.length; h++) {
          for (let i = 0; i < n; i++) {
            for (let j = 0; j < n; j++) {
              if (j === i) continue;
              for (const t of idx[j]!) borrow[at++] = BigInt(row(h, j, t));
            }
          }
        }
      }
      Object.assign(out, plainLayerFeeds(layer, batch), {
        [layer.names.index]: int64([batch, E], borrow),
        [layer.names.storeIndex]: int64([store.length], store),
      });
    });
    return out;
  }

  outputs(): string[] {
    return this.bank ? this.layers.map((l) => l.names.tokens) : [];
  }

  collect(step: number, outputs: Record<string, Tensor>): void {
    const bank = this.bank;
    if (!bank) return;
    this.layers.forEach((layer, li) => {
      const t = outputs[layer.names.tokens];
      if (!t || t.type !== 'float32') throw new Error(`UNet did not return float32 ${layer.names.tokens}`);
      bank.store(step, li, t.data);
    });
  }
}

export class BankRead implements CsaPhase {
  /**
   * @param banks the banks of the characters in these frames (all frames of one batch show
   *   the same characters); their layers must match `layers`.
   */
  constructor(
    private readonly layers: readonly CsaLayerPatch[],
    private readonly plan: CsaPlan,
    private readonly banks: readonly IdentityBank[],
  ) {
    for (const bank of banks) {
      const names = bank.header.layers.map((l) => l.name).join(',');
      if (names !== layers.map((l) => l.name).join(',')) {
        throw new Error(`identity bank layers [${names}] do not match the model's CSA layers`);
      }
    }
  }

  feeds(step: number, frames: number, halves: readonly GuidanceHalf[]): Record<string, Tensor> {
    const batch = frames * halves.length;
    const out: Record<string, Tensor> = {};
    this.layers.forEach((layer, li) => {
      const C = layer.channels;
      const apply = this.plan.apply[step]![li]! && this.banks.length > 0;
      const blocks = apply ? this.banks.map((b) => b.tokens(step, li)) : [];
      const M = apply ? this.banks.reduce((s, b) => s + b.header.layers[li]!.shared, 0) : 0;
      const data = new Float32Array(batch * M * C);
      if (apply) {
        // Each row gets its half's tokens of every character, one character after another.
        for (let r = 0; r < batch; r++) {
          const half = bankHalf(halves[Math.floor(r / frames)]!);
          let at = r * M * C;
          this.banks.forEach((b, bi) => {
            const per = b.header.layers[li]!.shared * C;
            data.set(blocks[bi]!.subarray(half * per, (half + 1) * per), at);
            at += per;
          });
        }
      }
      Object.assign(out, plainLayerFeeds(layer, batch), { [layer.names.bank]: float32([batch, M, C], data) });
    });
    return out;
  }

  outputs(): string[] {
    return [];
  }

  collect(): void {}
}
