/**
 * The one module that imports onnxruntime-node. Everything else in the engine speaks the
 * plain tensors of ../tensor; this adapter converts at the boundary (including float32 <->
 * float16 for fp16 packs), checks feeds against the model's own metadata before `run`, and
 * reports every feed's dtype and shape when ONNX Runtime rejects a run.
 *
 * Note: `run()` blocks the event loop while it computes; callers run the engine in worker
 * threads.
 */
import * as ort from 'onnxruntime-node';
import { Tensor, float16ToFloat32, float32ToFloat16 } from '../tensor';
import { Dim, IoSpec, checkFeeds, describeFeeds } from './io-spec';
import { RuntimeConfig, runtimeConfig } from './runtime-config';

export interface RunOptions {
  /** Outputs to compute; all when omitted. */
  outputs?: string[];
  /** 'float32' (default): float16 outputs come back as float32. 'keep': as raw half bits. */
  float16Outputs?: 'float32' | 'keep';
}

function sessionOptions(c: RuntimeConfig): ort.InferenceSession.SessionOptions {
  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: c.executionProviders.map((ep) => (ep === 'cuda' ? { name: 'cuda', deviceId: c.cudaDeviceId } : 'cpu')),
    graphOptimizationLevel: c.graphOptimization,
  };
  if (c.intraOpThreads !== undefined) options.intraOpNumThreads = c.intraOpThreads;
  if (c.interOpThreads !== undefined) options.interOpNumThreads = c.interOpThreads;
  return options;
}

function specs(meta: readonly ort.InferenceSession.ValueMetadata[]): IoSpec[] {
  return meta.map((m) => ({
    name: m.name,
    type: m.isTensor ? m.type : 'non-tensor',
    shape: m.isTensor ? m.shape.map((d): Dim => (typeof d === 'number' ? (d >= 0 ? d : null) : d === '' ? null : d)) : [],
  }));
}

function toOrt(t: Tensor, expected: string): ort.Tensor {
  if (expected === 'float16' && t.type === 'float32') t = float32ToFloat16(t);
  else if (expected === 'float32' && t.type === 'float16') t = float16ToFloat32(t);
  return new ort.Tensor(t.type, t.data, t.dims);
}

function fromOrt(name: string, v: ort.OnnxValue, float16Outputs: 'float32' | 'keep'): Tensor {
  const dims = [...v.dims];
  switch (v.type) {
    case 'float32':
      return { type: 'float32', dims, data: v.data as Float32Array };
    case 'int64':
      return { type: 'int64', dims, data: v.data as BigInt64Array };
    case 'int32':
      return { type: 'int32', dims, data: v.data as Int32Array };
    case 'float16': {
      const raw = v.data as Uint16Array | ArrayLike<number>;
      // With a Float16Array polyfill ORT hands out that type; reinterpret it as the raw bits.
      const bits = raw instanceof Uint16Array ? raw : new Uint16Array((raw as unknown as { buffer: ArrayBuffer }).buffer);
      const t: Tensor = { type: 'float16', dims, data: bits };
      return float16Outputs === 'keep' ? t : float16ToFloat32(t);
    }
    default:
      throw new TypeError(`output ${name} has element type ${v.type}, which the engine does not use`);
  }
}

export interface OpenOptions {
  /**
   * For model bytes whose initializers live in external files (models over 2 GB): the folder their
   * relative locations are read from, as if the bytes had been loaded from a file in it. Lets a
   * graph changed in memory (the CSA patch) use the weights where they are, without writing it.
   */
  externalDataFolder?: string;
}

export class ModelSession {
  private disposed = false;

  private constructor(
    /** A label for errors: the file name or what the caller calls the model. */
    readonly label: string,
    private readonly session: ort.InferenceSession,
    readonly inputs: readonly IoSpec[],
    readonly outputs: readonly IoSpec[],
  ) {}

  /**
   * Opens a model file (external data resolves relative to it) or in-memory model bytes (external
   * data resolves relative to `open.externalDataFolder`).
   */
  static async create(model: string | Uint8Array, config: Partial<RuntimeConfig> = {}, label?: string, open: OpenOptions = {}): Promise<ModelSession> {
    const c = runtimeConfig(config);
    const name = label ?? (typeof model === 'string' ? model : 'model');
    const options = sessionOptions(c);
    if (open.externalDataFolder !== undefined) {
      options.extra = { session: { model_external_initializers_file_folder_path: open.externalDataFolder } };
    }
    let session: ort.InferenceSession;
    try {
      session = typeof model === 'string'
        ? await ort.InferenceSession.create(model, options)
        : await ort.InferenceSession.create(model, options);
    } catch (err) {
      const providers = c.executionProviders.map((ep) => (ep === 'cuda' ? `cuda (device ${c.cudaDeviceId})` : ep)).join(', ');
      throw new Error(`${name}: cannot create a session with providers [${providers}]: ${(err as Error).message}`, { cause: err });
    }
    return new ModelSession(name, session, specs(session.inputMetadata), specs(session.outputMetadata));
  }

  input(name: string): IoSpec | undefined {
    return this.inputs.find((s) => s.name === name);
  }

  output(name: string): IoSpec | undefined {
    return this.outputs.find((s) => s.name === name);
  }

  async run(feeds: Record<string, Tensor>, options: RunOptions = {}): Promise<Record<string, Tensor>> {
    if (this.disposed) throw new Error(`${this.label}: session used after dispose()`);
    checkFeeds(this.label, this.inputs, feeds);
    const wanted = options.outputs ?? this.outputs.map((o) => o.name);
    for (const name of wanted) {
      if (!this.output(name)) throw new Error(`${this.label}: unknown output ${name}; the model gives ${this.outputs.map((o) => o.name).join(', ')}`);
    }
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const spec of this.inputs) ortFeeds[spec.name] = toOrt(feeds[spec.name]!, spec.type);
    let result: ort.InferenceSession.ReturnType;
    try {
      result = await this.session.run(ortFeeds, wanted);
    } catch (err) {
      throw new Error(`${this.label}: run failed with feeds ${describeFeeds(feeds)}: ${(err as Error).message}`, { cause: err });
    } finally {
      for (const t of Object.values(ortFeeds)) t.dispose();
    }
    const out: Record<string, Tensor> = {};
    for (const name of wanted) out[name] = fromOrt(name, result[name]!, options.float16Outputs ?? 'float32');
    return out;
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.session.release();
  }
}
