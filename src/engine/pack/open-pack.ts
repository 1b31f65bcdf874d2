/**
 * Opens a pack's sessions through the runtime (SDXL's second text encoder when the manifest has
 * text_2), optionally with the CSA patch applied to the UNet (layers and token counts from the
 * manifest), and checks them against the manifest.
 */
import { patchCsaModel } from '../csa';
import type { CsaPatch } from '../csa';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ModelSession, Runtime } from '../runtime';
import { PackSessions, checkPackSessions } from './check-sessions';
import type { ModelPack } from './load-pack';

export interface OpenedPack {
  textEncoder: ModelSession;
  /** SDXL packs (manifest text_2). */
  textEncoder2?: ModelSession;
  unet: ModelSession;
  vaeDecoder?: ModelSession;
  judge?: ModelSession;
  /** What the CSA patch did, when it was asked for. */
  csa: CsaPatch | null;
}

export interface OpenPackOptions {
  /** Patch the UNet for CSA (manifest csa.layers, else the up_blocks). */
  csa?: boolean;
  judge?: boolean;
}

export async function openPack(pack: ModelPack, runtime: Runtime, options: OpenPackOptions = {}): Promise<OpenedPack> {
  const m = pack.manifest;
  const textEncoder = await runtime.open(pack.file('text_encoder'), 'text_encoder');
  let csa: CsaPatch | null = null;
  let unet: ModelSession;
  if (options.csa) {
    // Token counts: the manifest's self_attention list, else derived from the UNet's block levels at the pack's sample size.
    const selection = { ...(m.csa && { layers: m.csa.layers }), tokens: Object.fromEntries(m.selfAttention.map((l) => [l.name, l.tokens])), sample: m.sample };
    const bytes = await readFile(pack.file('unet'));
    const patched = patchCsaModel(bytes, selection);
    csa = patched.patch;
    // The patched graph stays in memory; weights in external files (SDXL's) are read from the
    // UNet's own folder. Nothing is written: the pack folder may be read-only, and every compute
    // thread opens the pack at once (a file rewritten in place was read half-written by others).
    unet = await runtime.open(patched.bytes, 'unet+csa', { externalDataFolder: dirname(pack.file('unet')) });
  } else {
    unet = await runtime.open(pack.file('unet'), 'unet');
  }
  const opened: OpenedPack = { textEncoder, unet, csa };
  if (m.text2) opened.textEncoder2 = await runtime.open(pack.file('text_encoder_2'), 'text_encoder_2');
  if (m.space === 'latent') opened.vaeDecoder = await runtime.open(pack.file('vae_decoder'), 'vae_decoder');
  if (options.judge && m.files.judge !== undefined) opened.judge = await runtime.open(pack.file('judge'), 'judge');
  const sessions: PackSessions = { textEncoder, unet };
  if (opened.textEncoder2) sessions.textEncoder2 = opened.textEncoder2;
  if (opened.vaeDecoder) sessions.vaeDecoder = opened.vaeDecoder;
  if (opened.judge) sessions.judge = opened.judge;
  checkPackSessions(m, sessions);
  return opened;
}
