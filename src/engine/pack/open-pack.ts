/**
 * Opens a pack's sessions through the runtime, optionally with the CSA patch applied to the
 * UNet (layers and token counts from the manifest), and checks them against the manifest.
 */
import { defaultPatchedPath, patchCsaModel } from '../csa';
import type { CsaPatch } from '../csa';
import { readFile, writeFile } from 'node:fs/promises';
import type { ModelSession, Runtime } from '../runtime';
import { PackSessions, checkPackSessions } from './check-sessions';
import type { ModelPack } from './load-pack';

export interface OpenedPack {
  textEncoder: ModelSession;
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
    const selection = { ...(m.csa && { layers: m.csa.layers }), tokens: Object.fromEntries(m.selfAttention.map((l) => [l.name, l.tokens])) };
    const bytes = await readFile(pack.file('unet'));
    const patched = patchCsaModel(bytes, selection);
    csa = patched.patch;
    if (patched.patch.externalData) {
      // Weights in external files resolve relative to the graph: write it beside them.
      const path = defaultPatchedPath(pack.file('unet'));
      await writeFile(path, patched.bytes);
      unet = await runtime.open(path, 'unet+csa');
    } else {
      unet = await runtime.open(patched.bytes, 'unet+csa');
    }
  } else {
    unet = await runtime.open(pack.file('unet'), 'unet');
  }
  const opened: OpenedPack = { textEncoder, unet, csa };
  if (m.space === 'latent') opened.vaeDecoder = await runtime.open(pack.file('vae_decoder'), 'vae_decoder');
  if (options.judge && m.files.judge !== undefined) opened.judge = await runtime.open(pack.file('judge'), 'judge');
  const sessions: PackSessions = { textEncoder, unet };
  if (opened.vaeDecoder) sessions.vaeDecoder = opened.vaeDecoder;
  if (opened.judge) sessions.judge = opened.judge;
  checkPackSessions(m, sessions);
  return opened;
}
