/**
 * Opens a pack folder: reads and validates manifest.json, checks that every file it names is
 * there (and, on request, that its SHA-256 matches), and resolves file paths.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { PackManifest, parseManifest } from './manifest';
import { PackError } from './pack-errors';

export interface ModelPack {
  dir: string;
  manifest: PackManifest;
  /** Absolute path of a file the manifest names (files.<key>). */
  file(key: string): string;
}

export interface LoadPackOptions {
  /** Hash every file listed in manifest.sha256 and compare (reads all weights: slow for SD). */
  verifyHashes?: boolean;
}

async function sha256(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

export async function loadPack(dir: string, options: LoadPackOptions = {}): Promise<ModelPack> {
  const root = resolve(dir);
  const manifestPath = join(root, 'manifest.json');
  let text: string;
  try {
    text = await readFile(manifestPath, 'utf8');
  } catch {
    throw new PackError(`${dir}: no manifest.json (is this a model pack folder?)`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new PackError(`${manifestPath} is not valid JSON: ${(err as Error).message}`);
  }
  const manifest = parseManifest(raw, manifestPath);
  const file = (key: string): string => {
    const name = manifest.files[key];
    if (name === undefined) throw new PackError(`${manifestPath}: files.${key} is not set`);
    return join(root, name);
  };
  for (const [key, name] of Object.entries(manifest.files)) {
    const path = join(root, name!);
    const info = await stat(path).catch(() => null);
    if (!info?.isFile()) throw new PackError(`${manifestPath}: files.${key} names ${name}, which is missing from ${root}`);
  }
  if (options.verifyHashes) {
    for (const [name, expected] of Object.entries(manifest.sha256)) {
      const actual = await sha256(join(root, name)).catch(() => null);
      if (actual !== expected) throw new PackError(`${manifestPath}: ${name} ${actual === null ? 'is missing' : `has SHA-256 ${actual}, the manifest says ${expected}`}`);
    }
  }
  return { dir: root, manifest, file };
}
