/**
 * The manifest's description of how prompts reach the UNet.
 *
 *   text            the (first) text encoder: tokenizer, token count, width, and which output
 *                   the UNet's context comes from (default last_hidden_state; SDXL takes the
 *                   penultimate layer, e.g. "hidden_states.11")
 *   text_2          SDXL's second text encoder (files.text_encoder_2, files.tokenizer_2 or the
 *                   first tokenizer): the same fields plus `pooled`, its pooled output that
 *                   the UNet gets as text_embeds
 *   add_time_ids    SDXL's micro-conditioning: the UNet's time_ids, component by component
 *   force_zeros_for_empty_prompt   diffusers' pipeline flag: an empty negative prompt gives
 *                   zero embeddings instead of the encoded empty string
 *
 * A pack without text_2 and add_time_ids (story-world, SD1.5) reads exactly as before.
 */
import { TOKENIZER_KINDS } from '../tokenizer';
import type { TokenizerKind } from '../tokenizer';
import { Obj, Reader } from './manifest-reader';

export interface TextEncoderSpec {
  maxLength: number;
  hiddenSize: number;
  tokenizer: TokenizerKind;
  padToken?: string;
  bosToken?: string;
  eosToken?: string;
  /** The output the UNet's context is taken from; absent: last_hidden_state. */
  hiddenState?: string;
}

export interface PooledTextSpec {
  /** Output name (optimum's CLIPTextModelWithProjection export: text_embeds). */
  output: string;
  /** Its width (SDXL: projection_dim 1280). */
  size: number;
}

export interface SecondTextEncoderSpec extends TextEncoderSpec {
  pooled: PooledTextSpec;
}

/** diffusers' add_time_ids components: original_size + crops_coords_top_left + target_size. */
export const TIME_ID_NAMES = ['original_height', 'original_width', 'crop_top', 'crop_left', 'target_height', 'target_width'] as const;
export type TimeIdName = (typeof TIME_ID_NAMES)[number];

export interface AddTimeIdsSpec {
  /** The UNet's time_ids, in order (SDXL base: all six as listed in TIME_ID_NAMES). */
  order: TimeIdName[];
  /** Pixels; null: the rendered size, as diffusers does by default. */
  originalSize: { height: number; width: number } | null;
  cropTopLeft: { top: number; left: number };
}

export interface TextSections {
  text: TextEncoderSpec;
  text2?: SecondTextEncoderSpec;
  addTimeIds?: AddTimeIdsSpec;
  forceZerosForEmptyPrompt?: boolean;
}

export const DEFAULT_HIDDEN_STATE = 'last_hidden_state';

function encoderSpec(r: Reader, raw: unknown, key: string): TextEncoderSpec {
  const t = r.obj(raw, key);
  const p = `${key}.`;
  const spec: TextEncoderSpec = {
    maxLength: r.int(t, 'max_length', p, 2),
    hiddenSize: r.int(t, 'hidden_size', p, 1),
    tokenizer: r.oneOf(t, 'tokenizer', p, TOKENIZER_KINDS),
  };
  // Only fields the manifest sets are present, so a story-world or SD1.5 manifest reads as before.
  const optional = [['pad_token', 'padToken'], ['bos_token', 'bosToken'], ['eos_token', 'eosToken'], ['hidden_state', 'hiddenState']] as const;
  for (const [field, prop] of optional) {
    const v = r.optStr(t, field, p);
    if (v !== undefined) spec[prop] = v;
  }
  return spec;
}

function timeIds(r: Reader, raw: unknown): AddTimeIdsSpec {
  const o = r.obj(raw, 'add_time_ids');
  const order = o.order;
  if (!Array.isArray(order) || order.length === 0 || order.some((n) => !TIME_ID_NAMES.includes(n as TimeIdName)) || new Set(order).size !== order.length) {
    r.fail('add_time_ids.order', `must be a list of distinct names from ${TIME_ID_NAMES.join(', ')}`, order);
  }
  let originalSize: AddTimeIdsSpec['originalSize'] = null;
  if (o.original_size !== undefined) {
    const s = r.obj(o.original_size, 'add_time_ids.original_size');
    originalSize = { height: r.int(s, 'height', 'add_time_ids.original_size.', 1), width: r.int(s, 'width', 'add_time_ids.original_size.', 1) };
  }
  let cropTopLeft = { top: 0, left: 0 };
  if (o.crop_top_left !== undefined) {
    const c = r.obj(o.crop_top_left, 'add_time_ids.crop_top_left');
    cropTopLeft = { top: r.int(c, 'top', 'add_time_ids.crop_top_left.', 0), left: r.int(c, 'left', 'add_time_ids.crop_top_left.', 0) };
  }
  return { order: order as TimeIdName[], originalSize, cropTopLeft };
}

export function parseTextSections(r: Reader, m: Obj, files: Readonly<Record<string, string | undefined>>): TextSections {
  const sections: TextSections = { text: encoderSpec(r, m.text, 'text') };
  const sdxl = m.family === 'sdxl';
  // An SDXL UNet needs all of these; naming the first one missing beats a failed run later.
  if ((sdxl || m.text_2 !== undefined) && files.text_encoder_2 === undefined) {
    r.fail('files.text_encoder_2', `is required for ${sdxl ? 'family "sdxl"' : 'text_2'} (SDXL has two text encoders; see docs/engine.md)`, undefined);
  }
  if (files.text_encoder_2 !== undefined && m.text_2 === undefined) r.fail('text_2', 'must describe files.text_encoder_2 (max_length, hidden_size, tokenizer, hidden_state, pooled)', undefined);
  if (m.text_2 !== undefined) {
    const spec = encoderSpec(r, m.text_2, 'text_2');
    const t2 = r.obj(m.text_2, 'text_2');
    const pooledRaw = r.obj(t2.pooled, 'text_2.pooled');
    const text2: SecondTextEncoderSpec = { ...spec, pooled: { output: r.str(pooledRaw, 'output', 'text_2.pooled.'), size: r.int(pooledRaw, 'size', 'text_2.pooled.', 1) } };
    // The two hidden states are joined token by token, so both encoders see the same token count.
    if (text2.maxLength !== sections.text.maxLength) r.fail('text_2.max_length', `must equal text.max_length (${sections.text.maxLength})`, text2.maxLength);
    sections.text2 = text2;
  }
  if (files.tokenizer_2 !== undefined && m.text_2 === undefined) r.fail('files.tokenizer_2', 'is used only with text_2', files.tokenizer_2);
  // diffusers' "text_time" added conditions: the UNet takes text_embeds and time_ids together.
  if (m.add_time_ids !== undefined) sections.addTimeIds = timeIds(r, m.add_time_ids);
  if (sections.text2 && !sections.addTimeIds) r.fail('add_time_ids', 'is required with text_2 (the UNet takes text_embeds and time_ids together)', undefined);
  if (sections.addTimeIds && !sections.text2) r.fail('text_2', 'is required with add_time_ids (text_embeds comes from its pooled output)', undefined);
  if (m.force_zeros_for_empty_prompt !== undefined) sections.forceZerosForEmptyPrompt = r.bool(m, 'force_zeros_for_empty_prompt', '');
  return sections;
}
