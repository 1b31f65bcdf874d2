/**
 * From the denoised sample to pixels: the VAE decoder for latent packs, nothing for pixel
 * packs, then [-1, 1] floats to 8-bit RGB. The engine returns raw pixels; encoding (PNG,
 * upscaling) is the image module's job.
 */
import type { ModelSession } from '../runtime';
import { Float32Tensor } from '../tensor';

export interface RgbImage {
  width: number;
  height: number;
  /** RGB bytes, row-major, 3 per pixel. */
  data: Uint8Array;
}

export async function decodeLatents(vae: ModelSession, latents: Float32Tensor, latentScale: number): Promise<Float32Tensor> {
  const scaled: Float32Tensor = { type: 'float32', dims: [...latents.dims], data: latents.data.map((v) => v / latentScale) };
  const input = vae.inputs[0]!.name;
  const output = vae.outputs[0]!.name;
  const out = (await vae.run({ [input]: scaled }, { outputs: [output] }))[output]!;
  if (out.type !== 'float32') throw new Error(`${vae.label}: ${output} is ${out.type}, expected float32`);
  return out;
}

/** [B, 3, H, W] in [-1, 1] -> B images; rounding as the PyTorch reference does. */
export function toRgb(x: Float32Tensor): RgbImage[] {
  const [B, C, H, W] = x.dims as [number, number, number, number];
  if (C !== 3) throw new RangeError(`expected 3 colour channels, got ${C}`);
  const images: RgbImage[] = [];
  for (let b = 0; b < B; b++) {
    const data = new Uint8Array(H * W * 3);
    const base = b * 3 * H * W;
    for (let c = 0; c < 3; c++) {
      for (let p = 0; p < H * W; p++) {
        const v = Math.round((Math.min(1, Math.max(-1, x.data[base + c * H * W + p]!)) + 1) * 127.5);
        data[p * 3 + c] = v;
      }
    }
    images.push({ width: W, height: H, data });
  }
  return images;
}
