/**
 * How sessions are created: execution providers and threads come from the operator's
 * configuration, never from guesses about the machine. CPU is the default; CUDA only when
 * configured (it needs the CUDA build of onnxruntime and its libraries on the machine).
 */
export type ExecutionProvider = 'cpu' | 'cuda';

export interface RuntimeConfig {
  /** Tried in order by ONNX Runtime; nodes a provider cannot run fall back to the next. */
  executionProviders: ExecutionProvider[];
  cudaDeviceId: number;
  /** Threads inside one operator; undefined lets ONNX Runtime pick (all cores). */
  intraOpThreads?: number;
  /** Threads across independent operators (only with parallel execution). */
  interOpThreads?: number;
  graphOptimization: 'disabled' | 'basic' | 'extended' | 'all';
}

export const DEFAULT_RUNTIME: RuntimeConfig = {
  executionProviders: ['cpu'],
  cudaDeviceId: 0,
  graphOptimization: 'all',
};

export function runtimeConfig(partial: Partial<RuntimeConfig> = {}): RuntimeConfig {
  const c: RuntimeConfig = { ...DEFAULT_RUNTIME, ...partial };
  if (c.executionProviders.length === 0) throw new RangeError('runtime: at least one execution provider is needed');
  for (const ep of c.executionProviders) {
    if (ep !== 'cpu' && ep !== 'cuda') throw new RangeError(`runtime: unknown execution provider "${String(ep)}" (cpu or cuda)`);
  }
  for (const key of ['intraOpThreads', 'interOpThreads'] as const) {
    const v = c[key];
    if (v !== undefined && (!Number.isInteger(v) || v < 1)) throw new RangeError(`runtime: ${key} must be a positive integer, got ${v}`);
  }
  if (!Number.isInteger(c.cudaDeviceId) || c.cudaDeviceId < 0) throw new RangeError(`runtime: cudaDeviceId must be >= 0`);
  return c;
}

/** Reads "cuda,cpu" style lists, as an operator writes them in an environment variable. */
export function parseProviders(text: string): ExecutionProvider[] {
  return runtimeConfig({
    executionProviders: text.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean) as ExecutionProvider[],
  }).executionProviders;
}
