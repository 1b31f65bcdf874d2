/**
 * A read-only view of a serialized ONNX model's main graph: nodes (decoded, with their byte
 * ranges), who produces and who consumes each tensor, initializer metadata, and constant
 * folding of the small int64 tensors that shape computations use. Initializers are decoded
 * only on demand and never need their weights: external data stays a reference.
 */
import { AttributeMsg, DataType, Field, NodeMsg, TensorMsg, ValueInfoMsg, decodeNode, decodeTensor, decodeValueInfo, int } from './onnx-proto';
import { WireField, payload, scanFields } from './onnx-wire';

export interface GraphNode extends NodeMsg {
  index: number;
  wire: WireField;
}

export class OnnxGraphView {
  readonly modelFields: WireField[];
  readonly graphField: WireField;
  readonly graphFields: WireField[];
  readonly nodes: GraphNode[] = [];
  readonly producer = new Map<string, GraphNode>();
  readonly consumers = new Map<string, GraphNode[]>();
  readonly inputs: ValueInfoMsg[] = [];
  readonly outputs: ValueInfoMsg[] = [];
  readonly valueInfo = new Map<string, ValueInfoMsg>();
  private readonly initializerFields = new Map<string, WireField>();
  private readonly initializerCache = new Map<string, TensorMsg>();
  /** Whether any initializer keeps its data in an external file. */
  readonly externalData: boolean;

  constructor(readonly bytes: Uint8Array) {
    this.modelFields = scanFields(bytes);
    const graph = this.modelFields.filter((f) => f.field === Field.MODEL_GRAPH && f.wireType === 2);
    if (graph.length !== 1) throw new Error(`not an ONNX model: expected one graph, found ${graph.length}`);
    this.graphField = graph[0]!;
    this.graphFields = scanFields(bytes, this.graphField.dataStart, this.graphField.end);
    let external = false;
    for (const f of this.graphFields) {
      const data = payload(bytes, f);
      if (f.field === Field.GRAPH_NODE) {
        const node: GraphNode = { ...decodeNode(data), index: this.nodes.length, wire: f };
        node.input ??= [];
        node.output ??= [];
        node.attribute ??= [];
        this.nodes.push(node);
        for (const o of node.output) this.producer.set(o, node);
        for (const i of node.input) {
          if (!i) continue;
          const list = this.consumers.get(i) ?? [];
          list.push(node);
          this.consumers.set(i, list);
        }
      } else if (f.field === Field.GRAPH_INITIALIZER) {
        const name = initializerName(data);
        this.initializerFields.set(name, f);
        if (!external && hasExternalData(data)) external = true;
      } else if (f.field === Field.GRAPH_INPUT) {
        this.inputs.push(decodeValueInfo(data));
      } else if (f.field === Field.GRAPH_OUTPUT) {
        this.outputs.push(decodeValueInfo(data));
      } else if (f.field === Field.GRAPH_VALUE_INFO) {
        const vi = decodeValueInfo(data);
        this.valueInfo.set(vi.name, vi);
      }
    }
    this.externalData = external;
  }

  initializer(name: string): TensorMsg | undefined {
    const cached = this.initializerCache.get(name);
    if (cached) return cached;
    const f = this.initializerFields.get(name);
    if (!f) return undefined;
    const t = decodeTensor(payload(this.bytes, f));
    this.initializerCache.set(name, t);
    return t;
  }

  hasTensor(name: string): boolean {
    return this.producer.has(name) || this.initializerFields.has(name) || this.inputs.some((i) => i.name === name);
  }

  /** A tensor's constant value, when it is an initializer or a Constant node's output. */
  constantTensor(name: string): TensorMsg | undefined {
    const init = this.initializer(name);
    if (init) return init;
    const p = this.producer.get(name);
    if (p?.op_type === 'Constant') return attr(p, 'value')?.t;
    return undefined;
  }

  /** The int64/int32 values of a small constant tensor (shapes, axes, indices). */
  constantInts(name: string): number[] | undefined {
    const t = this.constantTensor(name);
    return t ? tensorInts(t) : undefined;
  }
}

export function attr(node: NodeMsg, name: string): AttributeMsg | undefined {
  return node.attribute.find((a) => a.name === name);
}

export function attrInt(node: NodeMsg, name: string, fallback: number): number {
  const a = attr(node, name);
  return a?.i === undefined ? fallback : int(a.i);
}

export function attrInts(node: NodeMsg, name: string): number[] | undefined {
  return attr(node, name)?.ints?.map(int);
}

export function tensorInts(t: TensorMsg): number[] | undefined {
  if (t.data_location === 1) return undefined; // external: not a small constant
  if (t.int64_data && t.int64_data.length > 0) return t.int64_data.map(int);
  if (t.int32_data && t.int32_data.length > 0) return [...t.int32_data];
  if (!t.raw_data) return t.dims.length === 0 || t.dims.some((d) => int(d) === 0) ? [] : undefined;
  const raw = t.raw_data;
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  if (t.data_type === DataType.INT64) return Array.from({ length: raw.byteLength / 8 }, (_, i) => Number(view.getBigInt64(i * 8, true)));
  if (t.data_type === DataType.INT32) return Array.from({ length: raw.byteLength / 4 }, (_, i) => view.getInt32(i * 4, true));
  return undefined;
}

function initializerName(data: Uint8Array): string {
  // Only the name (field 8) is needed to index an initializer; decoding the rest waits.
  for (const f of scanFields(data)) {
    if (f.field === 8 && f.wireType === 2) return Buffer.from(payload(data, f)).toString('utf8');
  }
  return '';
}

function hasExternalData(data: Uint8Array): boolean {
  return scanFields(data).some((f) => f.field === 14 && f.wireType === 0 && data[f.dataStart] === 1);
}
