/**
 * Patching a model file on disk, for tools (openPack patches in memory and writes nothing). The
 * graph file alone is read (for a >2 GB SD export that is a few MB; the weights live in external
 * data files), and the patched graph is written in the same folder so that its external-data
 * references, which are relative, still resolve. The file appears whole (written aside, then
 * renamed into place), so a reader never sees half of it.
 */
import { randomBytes } from 'node:crypto';
import { readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { CsaPatch, CsaPatchOptions, patchCsaModel } from './csa-patch';

export interface CsaFileOptions extends CsaPatchOptions {
  /** Where to write; default "<model>.csa.onnx" beside the model. Must stay in the model's folder when it has external data. */
  outputPath?: string;
}

export function defaultPatchedPath(modelPath: string): string {
  return join(dirname(modelPath), `${basename(modelPath, '.onnx')}.csa.onnx`);
}

export async function patchCsaFile(modelPath: string, options: CsaFileOptions = {}): Promise<{ path: string; patch: CsaPatch }> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(modelPath);
  } catch (err) {
    throw new Error(`CSA patch: cannot read ${modelPath}: ${(err as Error).message}`, { cause: err });
  }
  const { bytes: patched, patch } = patchCsaModel(bytes, options);
  const out = options.outputPath ?? defaultPatchedPath(modelPath);
  if (patch.externalData && resolve(dirname(out)) !== resolve(dirname(modelPath))) {
    throw new Error(`CSA patch: ${modelPath} keeps its weights in external files; write the patched graph in the same folder (not ${out}) so their relative paths resolve`);
  }
  const tmp = `${out}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, patched);
    await rename(tmp, out);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  return { path: out, patch };
}
