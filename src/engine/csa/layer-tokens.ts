/**
 * Token counts of self-attention layers from the UNet's structure, so that an operator's pack
 * need not list them: a diffusers UNet halves the latent grid at every
 * `down_blocks.i.downsamplers.0` and doubles it at every `up_blocks.i.upsamplers.0`, and the
 * export keeps those module names on their nodes. With the sample size, layer L of block b sits
 * at level(b) halvings: tokens = ceil(H / 2^level) * ceil(W / 2^level) (a stride-2 conv with
 * padding 1 rounds up).
 *
 *   down_blocks.i  level = downsamplers in down_blocks.0 .. i-1
 *   mid_block      level = all downsamplers
 *   up_blocks.i    level = all downsamplers - upsamplers in up_blocks.0 .. i-1
 *
 * SD1.5, 64 x 64 latents (512 px): up_blocks.1, .2, .3 at levels 2, 1, 0 -> 256, 1024, 4096 tokens.
 * SDXL, 128 x 128 latents (1024 px): up_blocks.0, .1 at levels 2, 1 -> 1024, 4096 tokens.
 */
import type { OnnxGraphView } from './onnx-graph';

const SAMPLER = /^\/?(down|up)_blocks\.(\d+)\/(downsamplers|upsamplers)\.0\//;
const BLOCK = /^(down_blocks|up_blocks)\.(\d+)\.|^mid_block\./;

export interface SampleSize {
  height: number;
  width: number;
}

/** Block -> halvings of the sample grid, or null when the graph has no diffusers samplers. */
export function blockLevels(graph: OnnxGraphView): ((layer: string) => number | null) | null {
  const down = new Set<number>();
  const up = new Set<number>();
  for (const node of graph.nodes) {
    const m = node.name ? SAMPLER.exec(node.name) : null;
    if (m) (m[1] === 'down' ? down : up).add(Number(m[2]));
  }
  if (down.size === 0) return null;
  const total = down.size;
  return (layer: string) => {
    const m = BLOCK.exec(layer);
    if (!m) return null;
    if (m[1] === undefined) return total;
    const i = Number(m[2]);
    const before = (set: Set<number>) => [...set].filter((j) => j < i).length;
    return m[1] === 'down_blocks' ? before(down) : total - before(up);
  };
}

export function tokensAtLevel(sample: SampleSize, level: number): number {
  const f = 2 ** level;
  return Math.ceil(sample.height / f) * Math.ceil(sample.width / f);
}
