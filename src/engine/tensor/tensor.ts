/**
 * The engine's plain tensor: what every module outside runtime/ speaks. No ONNX Runtime types
 * leak out of the runtime adapter, so schedulers, the CSA patch and the pipeline stay testable
 * and swappable.
 *
 * float16 data is kept as raw IEEE half bits in a Uint16Array (Node 20 has no Float16Array);
 * see float16.ts for the conversions done at the session boundary.
 */

export type TensorType = 'float32' | 'float16' | 'int64' | 'int32';

export interface Float32Tensor { type: 'float32'; dims: number[]; data: Float32Array }
export interface Float16Tensor { type: 'float16'; dims: number[]; data: Uint16Array }
export interface Int64Tensor { type: 'int64'; dims: number[]; data: BigInt64Array }
export interface Int32Tensor { type: 'int32'; dims: number[]; data: Int32Array }

export type Tensor = Float32Tensor | Float16Tensor | Int64Tensor | Int32Tensor;

export const TENSOR_TYPES: readonly TensorType[] = ['float32', 'float16', 'int64', 'int32'];

export function elementCount(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) {
    if (!Number.isInteger(d) || d < 0) throw new RangeError(`invalid dimension ${d} in [${dims.join(', ')}]`);
    n *= d;
  }
  return n;
}

function checked<T extends Tensor>(t: T): T {
  const n = elementCount(t.dims);
  if (t.data.length !== n) {
    throw new RangeError(`${t.type} tensor [${t.dims.join(', ')}] needs ${n} elements, got ${t.data.length}`);
  }
  return t;
}

export function float32(dims: number[], data?: Float32Array | readonly number[]): Float32Tensor {
  const values = data === undefined ? new Float32Array(elementCount(dims)) : Float32Array.from(data);
  return checked({ type: 'float32', dims: [...dims], data: values });
}

export function int64(dims: number[], data: BigInt64Array | readonly (number | bigint)[]): Int64Tensor {
  const values = data instanceof BigInt64Array ? data : BigInt64Array.from(data, (v) => BigInt(v));
  return checked({ type: 'int64', dims: [...dims], data: values });
}

export function int32(dims: number[], data: Int32Array | readonly number[]): Int32Tensor {
  const values = data instanceof Int32Array ? data : Int32Array.from(data);
  return checked({ type: 'int32', dims: [...dims], data: values });
}

export function float16(dims: number[], bits: Uint16Array): Float16Tensor {
  return checked({ type: 'float16', dims: [...dims], data: bits });
}

/** "float32[2, 3, 32, 32]": how errors name a tensor. */
export function describeTensor(t: Pick<Tensor, 'type' | 'dims'>): string {
  return `${t.type}[${t.dims.join(', ')}]`;
}

/** Float32 tensors of the same trailing shape stacked along their first axis. */
export function concatRows(parts: readonly Float32Tensor[]): Float32Tensor {
  if (parts.length === 0) throw new RangeError('concatRows needs at least one tensor');
  const out = float32([parts.reduce((n, p) => n + p.dims[0]!, 0), ...parts[0]!.dims.slice(1)]);
  let at = 0;
  for (const p of parts) {
    out.data.set(p.data, at);
    at += p.data.length;
  }
  return out;
}
