/**
 * Checks opened sessions against the manifest before anything runs: input and output names,
 * element types, and every dimension the model fixes. A pack whose text encoder gives 768
 * channels while the manifest says 1024 fails here, with both numbers, not deep inside a
 * denoising loop.
 */
import type { Dim, IoSpec } from '../runtime';
import type { PackManifest } from './manifest';
import { DEFAULT_HIDDEN_STATE, TextEncoderSpec } from './manifest-text';
import { PackError } from './pack-errors';

/** What the engine needs of a session (ModelSession satisfies it). */
export interface SessionShape {
  readonly inputs: readonly IoSpec[];
  readonly outputs: readonly IoSpec[];
}

export interface PackSessions {
  textEncoder: SessionShape;
  /** SDXL packs (manifest text_2). */
  textEncoder2?: SessionShape;
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

/** The SDXL UNet inputs that only a manifest with text_2 and add_time_ids feeds. */
const ADDED_CONDITIONS = ['text_embeds', 'time_ids'];

function checkTextEncoder(model: string, s: SessionShape, spec: TextEncoderSpec): void {
  check(model, 'input', s.inputs, { name: 'input_ids', types: ['int64', 'int32'], dims: [null, spec.maxLength] });
  check(model, 'output', s.outputs, { name: spec.hiddenState ?? DEFAULT_HIDDEN_STATE, types: FLOAT, dims: [null, spec.maxLength, spec.hiddenSize] });
}

export function checkPackSessions(m: PackManifest, s: PackSessions): void {
  const { maxLength: L } = m.text;
  const { channels: C } = m.sample;
  checkTextEncoder('text_encoder', s.textEncoder, m.text);
  if (m.text2) {
    if (!s.textEncoder2) throw new PackError('text_encoder_2: the manifest describes text_2 but no session was opened for it');
    checkTextEncoder('text_encoder_2', s.textEncoder2, m.text2);
    check('text_encoder_2', 'output', s.textEncoder2.outputs, { name: m.text2.pooled.output, types: FLOAT, dims: [null, m.text2.pooled.size] });
  }
  // Height and width stay symbolic in SD exports (any multiple of 8); a fixed one must match.
  check('unet', 'input', s.unet.inputs, { name: 'sample', types: FLOAT, dims: [null, C, m.sample.height, m.sample.width] });
  check('unet', 'input', s.unet.inputs, { name: 'timestep', types: ['float32', 'float16', 'int64'], dims: null });
  // SDXL: both encoders' hidden states side by side (768 + 1280 = 2048).
  check('unet', 'input', s.unet.inputs, { name: 'encoder_hidden_states', types: FLOAT, dims: [null, L, m.text.hiddenSize + (m.text2?.hiddenSize ?? 0)] });
  if (m.addTimeIds && m.text2) {
    check('unet', 'input', s.unet.inputs, { name: 'text_embeds', types: FLOAT, dims: [null, m.text2.pooled.size] });
    check('unet', 'input', s.unet.inputs, { name: 'time_ids', types: FLOAT, dims: [null, m.addTimeIds.order.length] });
  } else {
    const added = s.unet.inputs.filter((i) => ADDED_CONDITIONS.includes(i.name)).map((i) => i.name);
    if (added.length > 0) {
      throw new PackError(`unet: takes ${added.join(' and ')} (an SDXL UNet), but the manifest has no text_2 and add_time_ids to feed them (see docs/engine.md)`);
    }
  }
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
