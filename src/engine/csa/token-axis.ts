/**
 * Checks that the key/value path of an attention layer lets the token count vary. CSA makes
 * K and V longer than Q ([extra; own] tokens); an export that reshapes K with a fixed token
 * count (e.g. [B, 4096, 8, 40] instead of [B, -1, 8, 40]) would fail or, worse, silently mix
 * tokens into the batch axis. The check follows the tensor from the projection to the
 * attention MatMul, tracking which axis holds the tokens through Transpose and Reshape, and
 * reads each Reshape's target shape (constants, or pieces gathered from Shape()).
 */
import { CsaPatchError } from './attention-layers';
import { GraphNode, OnnxGraphView, attrInt, attrInts } from './onnx-graph';

export type TokenCheck = { verified: true } | { verified: false; reason: string };

type Piece = { kind: 'const'; value: number } | { kind: 'token' } | { kind: 'other' };

const ARITHMETIC = new Set(['Mul', 'Div', 'Add', 'Sub']);
const SAME_AXIS = new Set(['Add', 'Sub', 'Mul', 'Div', 'Cast', 'Identity']);

export function checkTokenAxis(graph: OnnxGraphView, layer: string, which: 'K' | 'V', start: string): TokenCheck {
  const axis = new Map<string, number>([[start, 1]]);
  const queue: string[] = [start];
  let reachedAttention = false;
  for (let guard = 0; queue.length > 0 && guard < 64; guard++) {
    const tensor = queue.shift()!;
    const a = axis.get(tensor)!;
    for (const node of graph.consumers.get(tensor) ?? []) {
      const op = node.op_type ?? '';
      if (op === 'Shape') continue; // feeds reshape targets; read there
      const out = node.output[0]!;
      if (SAME_AXIS.has(op)) {
        axis.set(out, a);
      } else if (op === 'Transpose') {
        const perm = attrInts(node, 'perm');
        if (!perm) return { verified: false, reason: `${node.name}: Transpose without perm` };
        axis.set(out, perm.indexOf(a));
      } else if (op === 'Reshape' && node.input[0] === tensor) {
        const next = reshapeTokenAxis(graph, node, a, axis, layer, which);
        if (typeof next !== 'number') return next;
        axis.set(out, next);
      } else if (op === 'MatMul' || op === 'Softmax') {
        reachedAttention = true;
        continue;
      } else {
        return { verified: false, reason: `${node.name ?? op}: ${op} on the ${which} path is not followed by the check` };
      }
      queue.push(out);
    }
  }
  return reachedAttention ? { verified: true } : { verified: false, reason: `the ${which} path does not reach an attention MatMul` };
}

function reshapeTokenAxis(graph: OnnxGraphView, node: GraphNode, inAxis: number, axis: Map<string, number>, layer: string, which: string): number | TokenCheck {
  const pieces = shapePieces(graph, node.input[1]!, axis);
  if (!pieces) return { verified: false, reason: `${node.name}: the target shape of the ${which} reshape could not be read` };
  const token = pieces.findIndex((p) => p.kind === 'token');
  if (token >= 0) return token;
  const minusOne = pieces.findIndex((p) => p.kind === 'const' && p.value === -1);
  if (minusOne === inAxis) return minusOne;
  const zero = pieces[inAxis];
  if (zero?.kind === 'const' && zero.value === 0 && attrInt(node, 'allowzero', 0) === 0) return inAxis;
  if (minusOne >= 0) return { verified: false, reason: `${node.name}: -1 sits on axis ${minusOne}, tokens were on axis ${inAxis}` };
  // No -1 and no size derived from the token axis: the output size depends only on the other
  // dimensions, so the token count is baked in.
  const shape = pieces.map((p) => (p.kind === 'const' ? p.value : '?')).join(', ');
  throw new CsaPatchError(`${layer}: the ${which} reshape ${node.name} fixes the token count (target shape [${shape}]); CSA needs -1 or a size read from the tensor there. Re-export the UNet with the token axis dynamic.`);
}

/** Resolves a reshape target into constants, the tracked token count, or other runtime sizes. */
function shapePieces(graph: OnnxGraphView, name: string, axis: Map<string, number>): Piece[] | undefined {
  const ints = graph.constantInts(name);
  if (ints) return ints.map((value) => ({ kind: 'const', value }));
  const p = graph.producer.get(name);
  if (!p) return undefined;
  if (p.op_type === 'Concat') {
    const out: Piece[] = [];
    for (const part of p.input) {
      const pieces = shapePieces(graph, part, axis);
      if (!pieces) return undefined;
      out.push(...pieces);
    }
    return out;
  }
  if (p.op_type === 'Unsqueeze') {
    const s = scalarPiece(graph, p.input[0]!, axis);
    return s ? [s] : undefined;
  }
  if (p.op_type === 'Shape') {
    const src = axis.get(p.input[0]!);
    const rank = rankOf(graph, p.input[0]!);
    if (rank === undefined) return undefined;
    const begin = normalise(attrInt(p, 'start', 0), rank);
    const end = normalise(attrInt(p, 'end', rank), rank);
    return Array.from({ length: end - begin }, (_, i): Piece => (src === begin + i ? { kind: 'token' } : { kind: 'other' }));
  }
  const s = scalarPiece(graph, name, axis);
  return s ? [s] : undefined;
}

function scalarPiece(graph: OnnxGraphView, name: string, axis: Map<string, number>): Piece | undefined {
  const ints = graph.constantInts(name);
  if (ints && ints.length === 1) return { kind: 'const', value: ints[0]! };
  const p = graph.producer.get(name);
  if (!p) return { kind: 'other' };
  if (p.op_type === 'Gather') {
    const shape = graph.producer.get(p.input[0]!);
    const idx = graph.constantInts(p.input[1]!);
    if (shape?.op_type === 'Shape' && idx && idx.length === 1) {
      const src = axis.get(shape.input[0]!);
      const start = attrInt(shape, 'start', 0);
      return src !== undefined && start + idx[0]! === src ? { kind: 'token' } : { kind: 'other' };
    }
  }
  if (p.op_type === 'Cast' || p.op_type === 'Identity' || p.op_type === 'Squeeze') return scalarPiece(graph, p.input[0]!, axis);
  if (ARITHMETIC.has(p.op_type ?? '')) {
    // A size computed from the token count (e.g. heads * tokens) still follows it.
    const parts = p.input.filter(Boolean).map((i) => scalarPiece(graph, i, axis));
    return parts.some((x) => x?.kind === 'token') ? { kind: 'token' } : { kind: 'other' };
  }
  return { kind: 'other' };
}

function rankOf(graph: OnnxGraphView, name: string): number | undefined {
  const vi = graph.valueInfo.get(name) ?? graph.inputs.find((i) => i.name === name);
  return vi?.type?.tensor_type?.shape?.dim.length;
}

function normalise(i: number, rank: number): number {
  const v = i < 0 ? i + rank : i;
  return Math.min(Math.max(v, 0), rank);
}
