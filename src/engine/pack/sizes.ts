/**
 * The image sizes a pack renders. A model draws well only at the sizes it was trained on:
 * SD1.5 at multiples of 64 around 512, SDXL at its aspect-ratio buckets around one megapixel,
 * the story world at its one native size (bigger pictures there are a display upscale). The
 * manifest may say so itself (`sizes`); otherwise the family's rule applies, and a pack of no
 * known family renders its native size only.
 *
 *   "sizes": { "multiple_of": 64, "min": 256, "max": 1024 }
 *   "sizes": { "buckets": [[1024, 1024], [1152, 896], ...] }        (width, height)
 *   "sizes": { "native": true }
 */
import type { Obj, Reader } from './manifest-reader';

export interface ImageSize {
  width: number;
  height: number;
}

export type SizeRule =
  | { kind: 'multiple'; multipleOf: number; min: number; max: number }
  | { kind: 'buckets'; buckets: ImageSize[] }
  | { kind: 'native' };

/** SDXL's training buckets (width x height), as Stability's SDXL report lists the common ones. */
export const SDXL_BUCKETS: readonly ImageSize[] = [
  [1024, 1024], [1152, 896], [896, 1152], [1216, 832], [832, 1216], [1344, 768], [768, 1344], [1536, 640], [640, 1536],
].map(([width, height]) => ({ width: width!, height: height! }));

const FAMILY_RULES: Record<string, SizeRule> = {
  sd15: { kind: 'multiple', multipleOf: 64, min: 256, max: 1024 },
  sdxl: { kind: 'buckets', buckets: [...SDXL_BUCKETS] },
};

export function parseSizeRule(r: Reader, m: Obj, family: string | null): SizeRule {
  if (m.sizes === undefined) return FAMILY_RULES[family ?? ''] ?? { kind: 'native' };
  const s = r.obj(m.sizes, 'sizes');
  if (s.native === true) return { kind: 'native' };
  if (s.buckets !== undefined) {
    if (!Array.isArray(s.buckets) || s.buckets.length === 0) r.fail('sizes.buckets', 'must be a non-empty list of [width, height]', s.buckets);
    const buckets = (s.buckets as unknown[]).map((b, i) => {
      if (!Array.isArray(b) || b.length !== 2 || !b.every((v) => Number.isInteger(v) && (v as number) > 0)) r.fail(`sizes.buckets[${i}]`, 'must be [width, height] in pixels', b);
      return { width: (b as number[])[0]!, height: (b as number[])[1]! };
    });
    return { kind: 'buckets', buckets };
  }
  const multipleOf = r.int(s, 'multiple_of', 'sizes.', 1);
  const min = r.int(s, 'min', 'sizes.', 1);
  const max = r.int(s, 'max', 'sizes.', min);
  return { kind: 'multiple', multipleOf, min, max };
}

/** Whether the pack renders `size` (its native size always). */
export function sizeAllowed(rule: SizeRule, native: ImageSize, size: ImageSize): boolean {
  if (size.width === native.width && size.height === native.height) return true;
  switch (rule.kind) {
    case 'native': return false;
    case 'buckets': return rule.buckets.some((b) => b.width === size.width && b.height === size.height);
    case 'multiple': return [size.width, size.height].every((v) => v % rule.multipleOf === 0 && v >= rule.min && v <= rule.max);
  }
}

/** What the rule allows, in words, for error messages. */
export function describeSizes(rule: SizeRule, native: ImageSize): string {
  const n = `${native.width}x${native.height}`;
  switch (rule.kind) {
    case 'native': return `only its native ${n}`;
    case 'buckets': return `${n} or one of its buckets ${rule.buckets.map((b) => `${b.width}x${b.height}`).join(', ')}`;
    case 'multiple': return `${n}, or width and height multiples of ${rule.multipleOf} from ${rule.min} to ${rule.max}`;
  }
}
