/**
 * What a session expects, read from the model itself (never guessed), and the checks done on
 * every feed before `run`: a clear error naming the input beats ONNX Runtime's
 * "Got invalid dimensions for input" deep inside a denoising loop.
 */
import { Tensor, TensorType, describeTensor, elementCount } from '../tensor';

/** A dimension: a number when the model fixes it, a name when it is symbolic, null when unknown. */
export type Dim = number | string | null;

export interface IoSpec {
  name: string;
  /** ONNX Runtime's element type name ('float32', 'float16', 'int64', ...). */
  type: string;
  /** Empty when the model does not declare a shape. */
  shape: Dim[];
}

export class FeedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FeedError';
  }
}

/** float32 and float16 are interchangeable at the boundary: the adapter converts. */
export function acceptsType(expected: string, got: TensorType): boolean {
  if (expected === got) return true;
  return (expected === 'float16' && got === 'float32') || (expected === 'float32' && got === 'float16');
}

export function describeSpec(s: IoSpec): string {
  return `${s.type}[${s.shape.map((d) => (d === null ? '?' : String(d))).join(', ')}]`;
}

export function describeFeeds(feeds: Record<string, Tensor>): string {
  return Object.entries(feeds)
    .map(([name, t]) => `${name}: ${describeTensor(t)}`)
    .join('; ');
}

export function checkFeeds(model: string, inputs: readonly IoSpec[], feeds: Record<string, Tensor>): void {
  const expected = new Map(inputs.map((s) => [s.name, s]));
  const missing = inputs.filter((s) => !(s.name in feeds)).map((s) => `${s.name} (${describeSpec(s)})`);
  if (missing.length > 0) throw new FeedError(`${model}: missing input${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);
  const extra = Object.keys(feeds).filter((n) => !expected.has(n));
  if (extra.length > 0) {
    throw new FeedError(`${model}: unknown input${extra.length > 1 ? 's' : ''} ${extra.join(', ')}; the model takes ${inputs.map((s) => s.name).join(', ')}`);
  }
  for (const [name, t] of Object.entries(feeds)) {
    const spec = expected.get(name)!;
    const fail = (why: string) => new FeedError(`${model}: input ${name} expects ${describeSpec(spec)}, got ${describeTensor(t)} (${why})`);
    if (!acceptsType(spec.type, t.type)) throw fail('element type');
    if (t.data.length !== elementCount(t.dims)) throw fail(`data holds ${t.data.length} elements`);
    if (spec.shape.length === 0) continue;
    if (spec.shape.length !== t.dims.length) throw fail('rank');
    spec.shape.forEach((d, i) => {
      if (typeof d === 'number' && d >= 0 && d !== t.dims[i]) throw fail(`dimension ${i}`);
    });
  }
}
