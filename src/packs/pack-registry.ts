/**
 * The model packs this installation knows: every folder under the models directory with a
 * manifest.json. Only manifests are read (no ONNX Runtime): the API uses them for defaults,
 * validation, anchor recipes and queue names; workers open the packs they hold.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tokenizerSpec } from '../engine/conditioning/open-conditioning';
import { ImageSize, PackManifest, describeSizes, imageSize, parseManifest, sizeAllowed } from '../engine/pack';
import { TextTokenizer, loadTokenizer } from '../engine/tokenizer';

export interface PackInfo {
  name: string;
  dir: string;
  manifest: PackManifest;
  /** sha256 of the UNet, as the engine computes it: banks and anchors remember it. */
  modelHash: string;
  /** Size of a render as stored by default: the decoded image times the display upscale. */
  width: number;
  height: number;
  /** The decoded image at the native sample size, before any display upscale. */
  native: ImageSize;
  /** story-world, sd15, sdxl, or what the manifest says. */
  family: string;
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
      // Operators often link packs in from a shared volume: a link to a folder counts as one.
      if (!entry.isDirectory() && !(entry.isSymbolicLink() && statSync(join(dir, entry.name), { throwIfNoEntry: false })?.isDirectory())) continue;
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

  private readonly meters = new Map<string, Promise<TextTokenizer>>();

  get(name: string): PackInfo | undefined {
    return this.packs.get(name);
  }

  get all(): PackInfo[] {
    return this.names.map((n) => this.packs.get(n)!);
  }

  /** The pack's (first) tokenizer, loaded once: what a prompt loses is measured with it. */
  tokenizer(pack: PackInfo): Promise<TextTokenizer> {
    let t = this.meters.get(pack.name);
    if (!t) {
      t = loadTokenizer(join(pack.dir, pack.manifest.files.tokenizer), tokenizerSpec(pack.manifest.text));
      t.catch(() => this.meters.delete(pack.name));
      this.meters.set(pack.name, t);
    }
    return t;
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
    native: size,
    family: manifest.family ?? manifest.name,
    identityHeads: hasJudge ? (judge!.identity ?? []).filter((h) => judge!.heads![h]) : [],
    hasJudge,
  };
}

/** Largest display upscale a pack without sizes of its own offers (story-world: 32 px -> 1024 px). */
const MAX_DISPLAY_SIDE = 1024;

/**
 * How a story of `size` (display pixels) renders on `pack`: the size the engine draws and the
 * integer display upscale. A pack with sizes of its own (SD1.5, SDXL) draws the size itself; a
 * native-only pack draws its one size, scaled up by a whole factor. Undefined: not possible.
 */
export function renderGeometry(pack: PackInfo, size: ImageSize): { engine: ImageSize; upscale: number } | undefined {
  const rule = pack.manifest.sizes;
  if (rule.kind !== 'native') {
    return sizeAllowed(rule, pack.native, size) ? { engine: size, upscale: 1 } : undefined;
  }
  const k = size.width / pack.native.width;
  const ok = Number.isInteger(k) && k >= 1 && size.height === pack.native.height * k && Math.max(size.width, size.height) <= Math.max(MAX_DISPLAY_SIDE, pack.width, pack.height);
  return ok ? { engine: pack.native, upscale: k } : undefined;
}

/** The display upscales a native-only pack offers (empty for packs with sizes of their own). */
export function displayUpscales(pack: PackInfo): number[] {
  if (pack.manifest.sizes.kind !== 'native') return [];
  const max = Math.floor(Math.max(MAX_DISPLAY_SIDE, pack.width, pack.height) / Math.max(pack.native.width, pack.native.height));
  return Array.from({ length: max }, (_, i) => i + 1);
}

/** What sizes the pack takes, in words, for error messages. */
export function sizesInWords(pack: PackInfo): string {
  const rule = pack.manifest.sizes;
  if (rule.kind !== 'native') return describeSizes(rule, pack.native);
  const n = pack.native;
  return `${n.width}x${n.height} times a whole display upscale (${displayUpscales(pack).map((k) => `${n.width * k}x${n.height * k}`).slice(0, 4).join(', ')}, ...)`;
}
