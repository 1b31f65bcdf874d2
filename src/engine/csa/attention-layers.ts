/**
 * Finds the self-attention layers of an exported UNet by diffusers' naming. torch.onnx (1.13+)
 * and optimum name each node after its module scope, so the key projection of
 *   up_blocks.1.attentions.0.transformer_blocks.0.attn1
 * is the MatMul node "/up_blocks.1/attentions.0/transformer_blocks.0/attn1/to_k/MatMul".
 * attn1 is self-attention in diffusers (attn2 attends to the text), in SD1.5, SDXL and our
 * story-world model alike.
 */
import { GraphNode, OnnxGraphView } from './onnx-graph';

export interface SelfAttentionLayer {
  /** diffusers module path, e.g. "up_blocks.1.attentions.0.transformer_blocks.0.attn1". */
  name: string;
  toK: GraphNode;
  toV: GraphNode;
  toQ?: GraphNode;
}

export class CsaPatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CsaPatchError';
  }
}

const PROJECTION = /^\/?(.+)\/attn1\/(to_q|to_k|to_v)\/MatMul$/;

export function scopeToLayerName(scope: string): string {
  return `${scope.split('/').filter(Boolean).join('.')}.attn1`;
}

export function findSelfAttentionLayers(graph: OnnxGraphView): SelfAttentionLayer[] {
  const found = new Map<string, Partial<SelfAttentionLayer>>();
  for (const node of graph.nodes) {
    if (node.op_type !== 'MatMul' || !node.name) continue;
    const m = PROJECTION.exec(node.name);
    if (!m) continue;
    const name = scopeToLayerName(m[1]!);
    const entry = found.get(name) ?? { name };
    if (m[2] === 'to_k') entry.toK = node;
    else if (m[2] === 'to_v') entry.toV = node;
    else entry.toQ = node;
    found.set(name, entry);
  }
  const layers: SelfAttentionLayer[] = [];
  for (const [name, e] of found) {
    if (!e.toK || !e.toV) throw new CsaPatchError(`${name}: found ${e.toK ? 'to_k' : 'to_v'} but not ${e.toK ? 'to_v' : 'to_k'}; is the attention fused?`);
    layers.push(e as SelfAttentionLayer);
  }
  return layers;
}

export interface LayerSelection {
  /** Exact layer names (e.g. the manifest's csa.layers). Wins over prefixes. */
  layers?: readonly string[];
  /** Module path prefixes; default the decoder half, "up_blocks.", as StoryDiffusion does. */
  blockPrefixes?: readonly string[];
}

export const DEFAULT_CSA_PREFIXES: readonly string[] = ['up_blocks.'];

export function selectLayers(all: SelfAttentionLayer[], selection: LayerSelection = {}): SelfAttentionLayer[] {
  if (all.length === 0) {
    throw new CsaPatchError('no self-attention layers found: expected MatMul nodes named like "/up_blocks.1/attentions.0/transformer_blocks.0/attn1/to_k/MatMul" (export with torch >= 1.13 or optimum, without attention fusion)');
  }
  if (selection.layers) {
    const byName = new Map(all.map((l) => [l.name, l]));
    const unknown = selection.layers.filter((n) => !byName.has(n));
    if (unknown.length > 0) {
      throw new CsaPatchError(`unknown self-attention layer${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; the model has ${all.map((l) => l.name).join(', ')}`);
    }
    if (selection.layers.length === 0) throw new CsaPatchError('no CSA layers selected (empty layer list)');
    return selection.layers.map((n) => byName.get(n)!);
  }
  const prefixes = selection.blockPrefixes ?? DEFAULT_CSA_PREFIXES;
  const chosen = all.filter((l) => prefixes.some((p) => l.name.startsWith(p)));
  if (chosen.length === 0) throw new CsaPatchError(`no self-attention layer starts with ${prefixes.join(' or ')}; the model has ${all.map((l) => l.name).join(', ')}`);
  return chosen;
}
