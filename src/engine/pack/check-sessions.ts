/**
 * Checks opened sessions against the manifest before anything runs: input and output names,
 * element types, and every dimension the model fixes. A pack whose text encoder gives 768
 * channels while the manifest says 1024 fails here, with both numbers, not deep inside a
 * denoising loop.
 */
import type { Dim, IoSpec } from '../runtime';
import type { PackManifest } from './manifest';
import { PackError } from './pack-errors';

/** What the engine needs of a session (ModelSession satisfies it). */
export interface SessionShape {
  readonly inputs: readonly IoSpec[];
  readonly outputs: readonly IoSpec[];
}

export interface PackSessions {
  textEncoder: SessionShape;
  unet: SessionShape;
  vaeDecoder?: SessionShape;
  judge?: SessionShape;
}

/** An expected dimension: a number must match a fixed one; null accepts anything (batch). */
type Want = number | null;

interface Expect {
  name: string;
  types: readonly string[];
  dims: readonly Want[] | null;
}

function fmt(dims: readonly (Dim | Want)[]): string {
  return `[${dims.map((d) => (d === null ? '?' : String(d))).join(', ')}]`;
}

function check(model: string, kind: 'input' | 'output', specs: readonly IoSpec[], want: Expect): void {
  const spec = specs.find((s) => s.name === want.name);
  if (!spec) throw new PackError(`${model}: no ${kind} named ${want.name}; the model has ${specs.map((s) => s.name).join(', ')}`);
  if (!want.types.includes(spec.type)) throw new PackError(`${model}: ${kind} ${want.name} is ${spec.type}, expected ${want.types.join(' or ')}`);
  if (want.dims === null || spec.shape.length === 0) return;
  if (spec.shape.length !== want.dims.length) {
    throw new PackError(`${model}: ${kind} ${want.name} has shape ${fmt(spec.shape)}, expected rank ${want.dims.length} ${fmt(want.dims)}`);
  }
  spec.shape.forEach((d, i) => {
    const w = want.dims![i];
    if (typeof d === 'number' && w !== null && w !== undefined && d !== w) {
      throw new PackError(`${model}: ${kind} ${want.name} has shape ${fmt(spec.shape)}, the manifest implies ${fmt(want.dims!)} (dimension ${i})`);
    }
  });
}

const FLOAT = ['float32', 'float16'] as const;

export function checkPackSessions(m: PackManifest, s: PackSessions): void {
  const { maxLength: L, hiddenSize: H } = m.text;
  const { channels: C } = m.sample;
  check('text_encoder', 'input', s.textEncoder.inputs, { name: 'input_ids', types: ['int64', 'int32'], dims: [null, L] });
  check('text_encoder', 'output', s.textEncoder.outputs, { name: 'last_hidden_state', types: FLOAT, dims: [null, L, H] });
  // Height and width stay symbolic in SD exports (any multiple of 8); a fixed one must match.
  check('unet', 'input', s.unet.inputs, { name: 'sample', types: FLOAT, dims: [null, C, m.sample.height, m.sample.width] });
  check('unet', 'input', s.unet.inputs, { name: 'timestep', types: ['float32', 'float16', 'int64'], dims: null });
  check('unet', 'input', s.unet.inputs, { name: 'encoder_hidden_states', types: FLOAT, dims: [null, L, H] });
  check('unet', 'output', s.unet.outputs, { name: 'out_sample', types: FLOAT, dims: [null, C, m.sample.height, m.sample.width] });
  if (m.space === 'latent') {
    if (!s.vaeDecoder) throw new PackError('vae_decoder: a latent pack needs its VAE decoder session');
    check('vae_decoder', 'input', s.vaeDecoder.inputs, { name: 'latent_sample', types: FLOAT, dims: [null, C, m.sample.height, m.sample.width] });
    check('vae_decoder', 'output', s.vaeDecoder.outputs, {
      name: 'sample', types: FLOAT, dims: [null, 3, m.sample.height * m.scaleFactor, m.sample.width * m.scaleFactor],
    });
  }
  if (s.judge) {
    check('judge', 'input', s.judge.inputs, { name: 'image', types: FLOAT, dims: [null, 3, m.sample.height * m.scaleFactor, m.sample.width * m.scaleFactor] });
    const heads = (m.judge as { heads?: Record<string, unknown> } | null)?.heads;
    for (const head of Object.keys(heads ?? {})) check('judge', 'output', s.judge.outputs, { name: head, types: FLOAT, dims: null });
  }
}
