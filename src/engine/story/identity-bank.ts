/**
 * A character's identity bank: the tokens its identity frames shared at every step and CSA
 * layer, for both classifier-free-guidance halves. Read-phase frames prepend them to their
 * own keys and values. A bank is a cache: `header.anchor` names the recipe that rebuilds it
 * exactly, and `header.model` the UNet it was made with.
 *
 * Layout per layer: [steps, 2 (uncond, cond), shared, channels], row-major.
 *
 * Serialised form: "SFBANK01", u32 LE header length, the header as UTF-8 JSON, zero padding
 * to a multiple of 8, then each layer's block as float32 or float16 (little endian).
 */
import { fromHalfBits, toHalfBits } from '../tensor';

export interface BankLayer {
  name: string;
  /** Tokens per frame at this layer. */
  tokens: number;
  channels: number;
  /** Tokens in the bank per step and half: identity frames x tokens each shares. */
  shared: number;
}

export interface BankHeader {
  format: 'storyforge-bank/1';
  /** sha256 of the UNet the bank was made with. */
  model: string;
  /** Hash of the anchor recipe that rebuilds this bank. */
  anchor: string;
  scheduler: string;
  steps: number;
  guidance: number;
  width: number;
  height: number;
  identityFrames: number;
  /** Sampling rate per token count. */
  rates: Record<string, number>;
  csaSeed: number;
  layers: BankLayer[];
  /** Banks written from finished pictures: the share of each step's timestep they were noised to. */
  references?: { referenceNoise: number };
}

export type BankDtype = 'float32' | 'float16';

const MAGIC = 'SFBANK01';

export class BankFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BankFormatError';
  }
}

export class IdentityBank {
  private constructor(
    readonly header: BankHeader,
    /** One block per layer, [steps, 2, shared, channels]. */
    private readonly blocks: Float32Array[],
  ) {}

  static empty(header: BankHeader): IdentityBank {
    return new IdentityBank(header, header.layers.map((l) => new Float32Array(header.steps * 2 * l.shared * l.channels)));
  }

  /** The [2, shared, channels] tokens of one step and layer (a view, not a copy). */
  tokens(step: number, layer: number): Float32Array {
    const l = this.layer(layer);
    const size = 2 * l.shared * l.channels;
    if (!Number.isInteger(step) || step < 0 || step >= this.header.steps) {
      throw new RangeError(`bank step ${step} outside 0..${this.header.steps - 1}`);
    }
    return this.blocks[layer]!.subarray(step * size, (step + 1) * size);
  }

  /** Stores what the identity phase handed out for one step and layer ([2 * shared, channels]). */
  store(step: number, layer: number, values: Float32Array): void {
    const view = this.tokens(step, layer);
    if (values.length !== view.length) {
      throw new RangeError(`bank layer ${this.layer(layer).name} expects ${view.length} values per step, got ${values.length}`);
    }
    view.set(values);
  }

  /** Bytes the tokens take in memory (float32). */
  get byteLength(): number {
    return this.blocks.reduce((n, b) => n + b.byteLength, 0);
  }

  private layer(i: number): BankLayer {
    const l = this.header.layers[i];
    if (!l) throw new RangeError(`bank has no layer ${i}`);
    return l;
  }

  /** The header block of the serialised form: magic, length, JSON, padding to 8 bytes. */
  private headerBlock(dtype: BankDtype): { json: Uint8Array; bytes: number } {
    const json = new TextEncoder().encode(JSON.stringify({ ...this.header, dtype }));
    return { json, bytes: align8(MAGIC.length + 4 + json.length) };
  }

  /** Bytes `serialize(dtype)` writes: what a platform weighs against rebuilding the bank. */
  serializedSize(dtype: BankDtype = 'float32'): { headerBytes: number; payloadBytes: number; totalBytes: number } {
    const headerBytes = this.headerBlock(dtype).bytes;
    const payloadBytes = this.blocks.reduce((n, b) => n + b.length, 0) * DTYPE_BYTES[dtype];
    return { headerBytes, payloadBytes, totalBytes: headerBytes + payloadBytes };
  }

  serialize(dtype: BankDtype = 'float32'): Uint8Array {
    const { json, bytes: start } = this.headerBlock(dtype);
    const out = new Uint8Array(this.serializedSize(dtype).totalBytes);
    out.set(new TextEncoder().encode(MAGIC), 0);
    new DataView(out.buffer).setUint32(MAGIC.length, json.length, true);
    out.set(json, MAGIC.length + 4);
    const view = new DataView(out.buffer);
    let at = start;
    for (const block of this.blocks) {
      if (dtype === 'float16') {
        for (let i = 0; i < block.length; i++, at += 2) view.setUint16(at, toHalfBits(block[i]!), true);
      } else {
        for (let i = 0; i < block.length; i++, at += 4) view.setFloat32(at, block[i]!, true);
      }
    }
    return out;
  }

  static deserialize(bytes: Uint8Array): IdentityBank {
    const magic = new TextDecoder().decode(bytes.subarray(0, MAGIC.length));
    if (magic !== MAGIC) throw new BankFormatError('not an identity bank (bad magic)');
    if (bytes.length < MAGIC.length + 4) throw new BankFormatError('identity bank is truncated in its header length');
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const length = view.getUint32(MAGIC.length, true);
    if (MAGIC.length + 4 + length > bytes.length) throw new BankFormatError(`identity bank is truncated in its header (${length} bytes announced)`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(new TextDecoder().decode(bytes.subarray(MAGIC.length + 4, MAGIC.length + 4 + length)));
    } catch (err) {
      throw new BankFormatError(`identity bank header is not JSON: ${(err as Error).message}`);
    }
    const { dtype, ...header } = checkHeader(parsed);
    const width = DTYPE_BYTES[dtype];
    let at = align8(MAGIC.length + 4 + length);
    const blocks = header.layers.map((l) => {
      const n = header.steps * 2 * l.shared * l.channels;
      if (at + n * width > bytes.length) throw new BankFormatError(`identity bank is truncated in layer ${l.name}`);
      const block = new Float32Array(n);
      for (let i = 0; i < n; i++, at += width) {
        block[i] = dtype === 'float16' ? fromHalfBits(view.getUint16(at, true)) : view.getFloat32(at, true);
      }
      return block;
    });
    if (at !== bytes.length) throw new BankFormatError(`identity bank has ${bytes.length - at} bytes after its last layer`);
    return new IdentityBank(header, blocks);
  }
}

const DTYPE_BYTES: Readonly<Record<BankDtype, number>> = { float32: 4, float16: 2 };

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

/** The parsed header, checked field by field: a damaged bank fails here, not in a loop below. */
function checkHeader(raw: unknown): BankHeader & { dtype: BankDtype } {
  const fail = (what: string): never => {
    throw new BankFormatError(`identity bank header: ${what}`);
  };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return fail('not an object');
  const h = raw as Record<string, unknown>;
  if (h.format !== 'storyforge-bank/1') fail(`unknown bank format ${JSON.stringify(h.format)}`);
  if (h.dtype !== 'float32' && h.dtype !== 'float16') fail(`unknown bank dtype ${JSON.stringify(h.dtype)}`);
  for (const key of ['model', 'anchor', 'scheduler'] as const) if (typeof h[key] !== 'string') fail(`${key} must be a string`);
  for (const key of ['steps', 'width', 'height', 'identityFrames', 'csaSeed'] as const) if (!isCount(h[key])) fail(`${key} must be an integer >= 0`);
  if (h.steps === 0) fail('steps must be at least 1');
  if (typeof h.guidance !== 'number') fail('guidance must be a number');
  if (typeof h.rates !== 'object' || h.rates === null) fail('rates must be an object');
  if (!Array.isArray(h.layers)) fail('layers must be a list');
  (h.layers as unknown[]).forEach((l, i) => {
    const layer = (typeof l === 'object' && l !== null ? l : {}) as Record<string, unknown>;
    if (typeof layer.name !== 'string' || layer.name === '') fail(`layers[${i}].name must be a string`);
    for (const key of ['tokens', 'channels', 'shared'] as const) if (!isCount(layer[key])) fail(`layers[${i}].${key} must be an integer >= 0`);
  });
  return raw as BankHeader & { dtype: BankDtype };
}

function align8(n: number): number {
  return Math.ceil(n / 8) * 8;
}
