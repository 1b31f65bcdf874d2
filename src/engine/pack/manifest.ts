/**
 * The model pack manifest (format storyforge-pack/1), as models/story-world/export.py writes
 * it and as an operator writes one for a real SD1.5/SDXL export (see docs/engine.md). Parsed
 * field by field: every error names the field, and no value is defaulted with `||` (a
 * guidance of 0 stays 0, a steps_offset of 0 stays 0). Width and height are kept apart by
 * name, never as an anonymous pair.
 */
import { SCHEDULER_NAMES, SchedulerConfig, SchedulerConfigError, isSchedulerName, parseSchedulerConfig } from '../schedulers';
import type { SchedulerName } from '../schedulers';
import { Obj, Reader } from './manifest-reader';
import { AddTimeIdsSpec, SecondTextEncoderSpec, TextEncoderSpec, parseTextSections } from './manifest-text';
import { PackError } from './pack-errors';
import { SizeRule, parseSizeRule } from './sizes';

export const PACK_FORMAT = 'storyforge-pack/1';

export interface PackFiles {
  text_encoder: string;
  unet: string;
  tokenizer: string;
  /** Latent packs only. */
  vae_decoder?: string;
  judge?: string;
  /** SDXL: the second text encoder, and its tokenizer when it is not `tokenizer`. */
  text_encoder_2?: string;
  tokenizer_2?: string;
  [other: string]: string | undefined;
}

export type IdentityWriteMode = 'joint' | 'first';

export interface PackManifest {
  format: typeof PACK_FORMAT;
  name: string;
  description: string | null;
  family: string | null;
  files: PackFiles;
  /** 'pixel': the UNet denoises RGB directly; 'latent': a VAE decoder turns latents into RGB. */
  space: 'pixel' | 'latent';
  /** The UNet's sample at the default size (latent grid for latent packs). */
  sample: { channels: number; height: number; width: number };
  /** Image pixels per sample cell (8 for SD's VAE, 1 for pixel packs). */
  scaleFactor: number;
  /** Latents are divided by this before decoding (SD1.5: 0.18215). */
  latentScale: number;
  /** Display upscale of the decoded image (nearest neighbour keeps pixel art crisp). */
  upscale: { factor: number; kernel: 'nearest' | 'lanczos3' };
  /** Image sizes (before the display upscale) the model renders well: the manifest's, or its family's. */
  sizes: SizeRule;
  text: TextEncoderSpec;
  /** SDXL's second text encoder (hidden states joined to the first's, pooled output -> text_embeds). */
  text2?: SecondTextEncoderSpec;
  /** SDXL's time_ids (original size, crop, target size). */
  addTimeIds?: AddTimeIdsSpec;
  /** An empty negative prompt conditions on zeros (diffusers' force_zeros_for_empty_prompt; SDXL base). */
  forceZerosForEmptyPrompt?: boolean;
  scheduler: SchedulerConfig;
  /**
   * identityPrompts: templates of a character's identity frames, `{description}` standing for
   * its identity description. A model trained on captions with an action (the story world)
   * needs one; SD packs can use the description alone.
   */
  defaults: { scheduler: SchedulerName; steps: number; guidance: number; negativePrompt: string; identityPrompts: string[] };
  selfAttention: { name: string; tokens: number; channels: number; heads: number; csa: boolean }[];
  csa: {
    layers: string[];
    defaultRate: number;
    applyProbability: { firstStep: number; beforeStep20: number; after: number };
    /** How identity frames share: all together (StoryDiffusion) or the first alone, the next ones reading it. */
    identityWrite: IdentityWriteMode;
    /** Reference banks noise their pictures to this share of each step's timestep. */
    referenceNoise: number;
    /**
     * Guidance of the first identity frame ("first" identity write), drawn before any bank
     * exists: a more decided picture is copied better by every frame after it. Null: the
     * story's guidance.
     */
    identityGuidance: number | null;
  } | null;
  judge: unknown;
  sha256: Record<string, string>;
}

function probability(r: Reader, o: Obj, key: string, path: string): number {
  return r.num(o, key, path, (v) => v >= 0 && v <= 1, 'in [0, 1]');
}

export function parseManifest(raw: unknown, where = 'manifest.json'): PackManifest {
  const r: Reader = new Reader(where); // annotated: TypeScript narrows through `never` methods only then
  const m = r.obj(raw, 'the manifest');
  if (m.format !== PACK_FORMAT) r.fail('format', `must be "${PACK_FORMAT}"`, m.format);

  const filesRaw = r.obj(m.files, 'files');
  const files: PackFiles = { text_encoder: r.str(filesRaw, 'text_encoder', 'files.'), unet: r.str(filesRaw, 'unet', 'files.'), tokenizer: r.str(filesRaw, 'tokenizer', 'files.') };
  for (const [k, v] of Object.entries(filesRaw)) {
    if (typeof v !== 'string' || v.length === 0) r.fail(`files.${k}`, 'must be a file name', v);
    files[k] = v;
  }
  const space = r.oneOf(m, 'space', '', ['pixel', 'latent'] as const);
  if (space === 'latent' && files.vae_decoder === undefined) r.fail('files.vae_decoder', 'is required when space is "latent"', undefined);

  const s = r.obj(m.sample, 'sample');
  const sample = { channels: r.int(s, 'channels', 'sample.', 1), height: r.int(s, 'height', 'sample.', 1), width: r.int(s, 'width', 'sample.', 1) };

  const upscaleRaw = m.upscale === undefined ? { factor: 1, kernel: 'nearest' } : r.obj(m.upscale, 'upscale');
  const upscale = { factor: r.int(upscaleRaw, 'factor', 'upscale.', 1), kernel: r.oneOf(upscaleRaw, 'kernel', 'upscale.', ['nearest', 'lanczos3'] as const) };

  const textSections = parseTextSections(r, m, files);

  let scheduler: SchedulerConfig;
  try {
    scheduler = parseSchedulerConfig(m.scheduler);
  } catch (err) {
    if (err instanceof SchedulerConfigError) throw new PackError(`${where}: ${err.message}`);
    throw err;
  }

  const d = r.obj(m.defaults, 'defaults');
  if (!isSchedulerName(d.scheduler)) r.fail('defaults.scheduler', `must be one of ${SCHEDULER_NAMES.join(', ')} (unknown scheduler)`, d.scheduler);
  const defaults = {
    scheduler: d.scheduler as SchedulerName,
    steps: r.int(d, 'steps', 'defaults.', 1),
    guidance: r.num(d, 'guidance', 'defaults.', (v) => v >= 0, 'a number >= 0'),
    negativePrompt: typeof d.negative_prompt === 'string' ? d.negative_prompt : r.fail('defaults.negative_prompt', 'must be a string', d.negative_prompt),
    identityPrompts: identityPrompts(r, d.identity_prompts),
  };

  const sa = m.self_attention === undefined ? [] : m.self_attention;
  if (!Array.isArray(sa)) r.fail('self_attention', 'must be a list', sa);
  const selfAttention = (sa as unknown[]).map((item, i) => {
    const o = r.obj(item, `self_attention[${i}]`);
    const p = `self_attention[${i}].`;
    return { name: r.str(o, 'name', p), tokens: r.int(o, 'tokens', p, 1), channels: r.int(o, 'channels', p, 1), heads: r.int(o, 'heads', p, 1), csa: r.bool(o, 'csa', p) };
  });

  let csa: PackManifest['csa'] = null;
  if (m.csa !== undefined) {
    const c = r.obj(m.csa, 'csa');
    if (!Array.isArray(c.layers) || c.layers.length === 0 || c.layers.some((l) => typeof l !== 'string')) r.fail('csa.layers', 'must be a non-empty list of layer names', c.layers);
    const layers = c.layers as string[];
    if (selfAttention.length > 0) {
      const known = new Set(selfAttention.map((l) => l.name));
      const unknown = layers.filter((l) => !known.has(l));
      if (unknown.length > 0) r.fail('csa.layers', 'must name layers listed in self_attention', unknown);
    }
    const ap = r.obj(c.apply_probability, 'csa.apply_probability');
    const write = c.identity_write ?? 'joint';
    if (write !== 'joint' && write !== 'first') r.fail('csa.identity_write', 'must be "joint" or "first"', write);
    csa = {
      identityWrite: write as IdentityWriteMode,
      referenceNoise: c.reference_noise === undefined ? 0.5 : r.num(c, 'reference_noise', 'csa.', (v) => v >= 0 && v <= 1, 'in [0, 1]'),
      identityGuidance: c.identity_guidance === undefined ? null : r.num(c, 'identity_guidance', 'csa.', (v) => v >= 0 && v <= 30, 'in [0, 30]'),
      layers,
      defaultRate: r.num(c, 'default_rate', 'csa.', (v) => v > 0 && v <= 1, 'in (0, 1]'),
      applyProbability: {
        firstStep: probability(r, ap, 'first_step', 'csa.apply_probability.'),
        beforeStep20: probability(r, ap, 'before_step_20', 'csa.apply_probability.'),
        after: probability(r, ap, 'after', 'csa.apply_probability.'),
      },
    };
  }

  const sha = m.sha256 === undefined ? {} : r.obj(m.sha256, 'sha256');
  for (const [k, v] of Object.entries(sha)) if (typeof v !== 'string' || !/^[0-9a-f]{64}$/.test(v)) r.fail(`sha256.${k}`, 'must be a hex SHA-256', v);

  return {
    format: PACK_FORMAT,
    name: r.str(m, 'name', ''),
    description: typeof m.description === 'string' ? m.description : null,
    family: typeof m.family === 'string' ? m.family : null,
    files,
    space,
    sample,
    scaleFactor: r.int(m, 'scale_factor', '', 1),
    latentScale: r.num(m, 'latent_scale', '', (v) => v > 0, 'a number > 0'),
    upscale,
    sizes: parseSizeRule(r, m, typeof m.family === 'string' ? m.family : null),
    ...textSections,
    scheduler,
    defaults,
    selfAttention,
    csa,
    judge: m.judge ?? null,
    sha256: sha as Record<string, string>,
  };
}

function identityPrompts(r: Reader, raw: unknown): string[] {
  if (raw === undefined) return ['{description}'];
  if (!Array.isArray(raw) || raw.length === 0 || raw.some((p) => typeof p !== 'string' || !p.includes('{description}'))) {
    r.fail('defaults.identity_prompts', 'must be a non-empty list of strings containing {description}', raw);
  }
  return raw as string[];
}

/** Decoded image size at the pack's default sample size, before the display upscale. */
export function imageSize(m: PackManifest): { height: number; width: number } {
  return { height: m.sample.height * m.scaleFactor, width: m.sample.width * m.scaleFactor };
}
