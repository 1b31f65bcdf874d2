/**
 * The Consistent Self-Attention graph patch. For each selected self-attention layer L, with
 * X [B, N, C] the normed hidden states that feed to_q, to_k and to_v:
 *
 *   flat       = Reshape(X, [-1, C])                       rows b*N + n of the whole batch
 *   kv         = Concat([L.csa_bank, Gather(flat, L.csa_index), X], axis 1)
 *   K = to_k(kv), V = to_v(kv)                              (Q = to_q(X) is unchanged)
 *   L.csa_tokens = Gather(flat, L.csa_store_index)
 *
 * inputs   L.csa_index        int64 [B, E]  rows of `flat` that frame b borrows from the other
 *                                            frames of this batch (identity phase; stays on device)
 *          L.csa_bank         X's dtype [B, M, C]  tokens given from outside (read phase)
 *          L.csa_store_index  int64 [S]     rows of `flat` to hand out
 * output   L.csa_tokens       X's dtype [S, C]  those rows, for the identity bank
 *
 * With E = M = S = 0 the layer is plain attention. Only the graph is parsed: weights in
 * external files stay where they are and the patched graph must sit in the same folder.
 */
import { CsaPatchError, LayerSelection, SelfAttentionLayer, findSelfAttentionLayers, selectLayers } from './attention-layers';
import { OnnxGraphView } from './onnx-graph';
import { AttrType, DataType, Field, encodeInt64Initializer, encodeNode, encodeValueInfo, int } from './onnx-proto';
import { concatBytes, lengthDelimited, renameFirstInput } from './onnx-wire';
import { SampleSize, blockLevels, tokensAtLevel } from './layer-tokens';
import { TokenCheck, checkTokenAxis } from './token-axis';

export interface CsaTensorNames {
  index: string;
  bank: string;
  storeIndex: string;
  tokens: string;
}

export function csaNames(layer: string): CsaTensorNames {
  return { index: `${layer}.csa_index`, bank: `${layer}.csa_bank`, storeIndex: `${layer}.csa_store_index`, tokens: `${layer}.csa_tokens` };
}

export interface CsaLayerPatch {
  name: string;
  /** Channels C of X, read from the to_k weight. */
  channels: number;
  /** Element type of X, the bank input and the tokens output. */
  dtype: 'float32' | 'float16';
  /** Tokens N per frame at the pack's resolution, when known (options.tokens, value_info, or the block level and options.sample). */
  tokens: number | null;
  names: CsaTensorNames;
  /** Whether the K and V reshapes were proven to leave the token count free. */
  keyCheck: TokenCheck;
  valueCheck: TokenCheck;
}

export interface CsaPatch {
  layers: CsaLayerPatch[];
  /** Self-attention layers found but left plain. */
  skipped: string[];
  externalData: boolean;
}

export interface CsaPatchOptions extends LayerSelection {
  /** Token count per layer (e.g. from the manifest's self_attention list), for the description. */
  tokens?: Readonly<Record<string, number>>;
  /** The sample (latent) grid: layers without a given count get one from their block's level. */
  sample?: SampleSize;
}

const ELEM: Record<number, 'float32' | 'float16'> = { [DataType.FLOAT]: 'float32', [DataType.FLOAT16]: 'float16' };

/** C and dtype of X from the to_k weight: MatMul(X [.., C], W [C, C']), W possibly a transposed constant. */
function projectionInput(graph: OnnxGraphView, layer: SelfAttentionLayer): { channels: number; dtype: 'float32' | 'float16'; elemType: number } {
  let weightName = layer.toK.input[1]!;
  let transposed = false;
  const producer = graph.producer.get(weightName);
  if (producer?.op_type === 'Transpose' && !graph.constantTensor(weightName)) {
    weightName = producer.input[0]!;
    transposed = true;
  }
  const w = graph.constantTensor(weightName);
  if (!w || w.dims.length !== 2) {
    throw new CsaPatchError(`${layer.name}: the to_k weight ${layer.toK.input[1]} is not a 2-D constant (quantized or fused export?); cannot read the channel count`);
  }
  const dtype = ELEM[w.data_type ?? 0];
  if (!dtype) throw new CsaPatchError(`${layer.name}: to_k weight has ONNX element type ${w.data_type}; CSA supports float32 and float16`);
  return { channels: int(w.dims[transposed ? 1 : 0]), dtype, elemType: w.data_type! };
}

function tokensOf(graph: OnnxGraphView, x: string, layer: string, options: CsaPatchOptions, level: ((layer: string) => number | null) | null): number | null {
  const given = options.tokens?.[layer];
  if (given !== undefined) return given;
  const dim = graph.valueInfo.get(x)?.type?.tensor_type?.shape?.dim[1];
  if (dim?.dim_value !== undefined) return int(dim.dim_value);
  const l = options.sample && level ? level(layer) : null;
  return l === null || !options.sample ? null : tokensAtLevel(options.sample, l);
}

export function patchCsaModel(model: Uint8Array, options: CsaPatchOptions = {}): { bytes: Uint8Array; patch: CsaPatch } {
  const graph = new OnnxGraphView(model);
  const all = findSelfAttentionLayers(graph);
  const chosen = selectLayers(all, options);
  const level = options.sample ? blockLevels(graph) : null;

  const insertBefore = new Map<number, Uint8Array[]>();
  const rename = new Map<number, string>();
  const initializers: Uint8Array[] = [];
  const inputs: Uint8Array[] = [];
  const outputs: Uint8Array[] = [];
  const layers: CsaLayerPatch[] = [];

  for (const layer of chosen) {
    const L = layer.name;
    const names = csaNames(L);
    for (const n of Object.values(names)) {
      if (graph.hasTensor(n)) throw new CsaPatchError(`${L}: the model already has a tensor named ${n} (already patched?)`);
    }
    const x = layer.toK.input[0]!;
    if (layer.toV.input[0] !== x) {
      throw new CsaPatchError(`${L}: to_k reads ${x} but to_v reads ${layer.toV.input[0]}; CSA needs one shared input`);
    }
    const { channels, dtype, elemType } = projectionInput(graph, layer);
    const keyCheck = checkTokenAxis(graph, L, 'K', layer.toK.output[0]!);
    const valueCheck = checkTokenAxis(graph, L, 'V', layer.toV.output[0]!);

    const scope = `/${L.split('.').slice(0, -1).join('/')}/attn1/csa`;
    const t = { shape: `${L}.csa/flat_shape`, flat: `${L}.csa/flat`, gathered: `${L}.csa/gathered`, kv: `${L}.csa/kv` };
    const nodes = [
      encodeNode({ name: `${scope}/Reshape`, op_type: 'Reshape', input: [x, t.shape], output: [t.flat] }),
      encodeNode({ name: `${scope}/Gather`, op_type: 'Gather', input: [t.flat, names.index], output: [t.gathered], attribute: [{ name: 'axis', i: 0, type: AttrType.INT }] }),
      encodeNode({ name: `${scope}/Concat`, op_type: 'Concat', input: [names.bank, t.gathered, x], output: [t.kv], attribute: [{ name: 'axis', i: 1, type: AttrType.INT }] }),
      encodeNode({ name: `${scope}/GatherStore`, op_type: 'Gather', input: [t.flat, names.storeIndex], output: [names.tokens], attribute: [{ name: 'axis', i: 0, type: AttrType.INT }] }),
    ].map((n) => lengthDelimited(Field.GRAPH_NODE, n));
    const at = Math.min(layer.toK.index, layer.toV.index);
    insertBefore.set(at, [...(insertBefore.get(at) ?? []), ...nodes]);
    rename.set(layer.toK.index, t.kv);
    rename.set(layer.toV.index, t.kv);

    initializers.push(lengthDelimited(Field.GRAPH_INITIALIZER, encodeInt64Initializer(t.shape, [-1, channels])));
    inputs.push(
      lengthDelimited(Field.GRAPH_INPUT, encodeValueInfo(names.index, DataType.INT64, ['batch', `${L}.csa_extra`])),
      lengthDelimited(Field.GRAPH_INPUT, encodeValueInfo(names.bank, elemType, ['batch', `${L}.csa_bank_tokens`, channels])),
      lengthDelimited(Field.GRAPH_INPUT, encodeValueInfo(names.storeIndex, DataType.INT64, [`${L}.csa_store`])),
    );
    outputs.push(lengthDelimited(Field.GRAPH_OUTPUT, encodeValueInfo(names.tokens, elemType, [`${L}.csa_store`, channels])));
    layers.push({ name: L, channels, dtype, tokens: tokensOf(graph, x, L, options, level), names, keyCheck, valueCheck });
  }

  const parts: Uint8Array[] = [];
  let nodeIndex = 0;
  for (const f of graph.graphFields) {
    if (f.field === Field.GRAPH_NODE) {
      parts.push(...(insertBefore.get(nodeIndex) ?? []));
      const newInput = rename.get(nodeIndex);
      const raw = model.subarray(f.start, f.end);
      parts.push(newInput === undefined ? raw : lengthDelimited(Field.GRAPH_NODE, renameFirstInput(model.subarray(f.dataStart, f.end), Field.NODE_INPUT, newInput)));
      nodeIndex++;
    } else {
      parts.push(model.subarray(f.start, f.end));
    }
  }
  parts.push(...initializers, ...inputs, ...outputs);
  const newGraph = concatBytes(parts);

  const modelParts = graph.modelFields.map((f) => (f === graph.graphField ? lengthDelimited(Field.MODEL_GRAPH, newGraph) : model.subarray(f.start, f.end)));
  const chosenNames = new Set(chosen.map((l) => l.name));
  return {
    bytes: concatBytes(modelParts),
    patch: { layers, skipped: all.map((l) => l.name).filter((n) => !chosenNames.has(n)), externalData: graph.externalData },
  };
}
