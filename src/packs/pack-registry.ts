/**
 * The model packs this installation knows: every folder under the models directory with a
 * manifest.json. Only manifests are read (no ONNX Runtime): the API uses them for defaults,
 * validation, anchor recipes and queue names; workers open the packs they hold.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PackManifest, imageSize, parseManifest } from '../engine/pack';

export interface PackInfo {
  name: string;
  dir: string;
  manifest: PackManifest;
  /** sha256 of the UNet, as the engine computes it: banks and anchors remember it. */
  modelHash: string;
  /** Size of a render as stored: the decoded image times the display upscale. */
  width: number;
  height: number;
  /** Identity attributes the judge reads (empty when the pack has no judge). */
  identityHeads: string[];
  hasJudge: boolean;
}

export class PackRegistry {
  private constructor(private readonly packs: Map<string, PackInfo>) {}

  /** Reads every `<dir>/<pack>/manifest.json`; a broken manifest fails loudly, with the file. */
  static load(dir: string): PackRegistry {
    const packs = new Map<string, PackInfo>();
    const entries = existsSync(dir) ? readdirSync(dir, { withFileTypes: true }) : [];
    for (const entry of entries) {
      if (!entry.isDirectory()) continue;
      const file = join(dir, entry.name, 'manifest.json');
      if (!existsSync(file)) continue;
      const manifest = parseManifest(JSON.parse(readFileSync(file, 'utf8')), file);
      packs.set(manifest.name, describe(join(dir, entry.name), manifest));
    }
    return new PackRegistry(packs);
  }

  static of(packs: PackInfo[]): PackRegistry {
    return new PackRegistry(new Map(packs.map((p) => [p.name, p])));
  }

  get(name: string): PackInfo | undefined {
    return this.packs.get(name);
  }

  get names(): string[] {
    return [...this.packs.keys()].sort();
  }
}

export function describe(dir: string, manifest: PackManifest): PackInfo {
  const size = imageSize(manifest);
  const judge = manifest.judge as { heads?: Record<string, string[]>; identity?: string[] } | null;
  const hasJudge = manifest.files.judge !== undefined && !!judge?.heads;
  return {
    name: manifest.name,
    dir,
    manifest,
    modelHash: manifest.sha256[manifest.files.unet] ?? createHash('sha256').update(`${manifest.name}:${manifest.files.unet}`).digest('hex'),
    width: size.width * manifest.upscale.factor,
    height: size.height * manifest.upscale.factor,
    identityHeads: hasJudge ? (judge!.identity ?? []).filter((h) => judge!.heads![h]) : [],
    hasJudge,
  };
}
