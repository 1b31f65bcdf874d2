/**
 * Feeds for the inputs the patch adds. Every patched layer needs all three on every run;
 * a layer that does not share at a step gets zero-length ones and runs as plain attention.
 */
import { Tensor, float16, float32, int64 } from '../tensor';
import type { CsaLayerPatch } from './csa-patch';

export function plainLayerFeeds(layer: CsaLayerPatch, batch: number): Record<string, Tensor> {
  const bank = layer.dtype === 'float16' ? float16([batch, 0, layer.channels], new Uint16Array(0)) : float32([batch, 0, layer.channels]);
  return {
    [layer.names.index]: int64([batch, 0], []),
    [layer.names.bank]: bank,
    [layer.names.storeIndex]: int64([0], []),
  };
}

/** Zero-length CSA feeds for all layers: the patched model then computes the original one. */
export function plainCsaFeeds(layers: readonly CsaLayerPatch[], batch: number): Record<string, Tensor> {
  return Object.assign({}, ...layers.map((l) => plainLayerFeeds(l, batch))) as Record<string, Tensor>;
}
