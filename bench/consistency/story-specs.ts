/**
 * The consistency table's stories, drawn from a seed exactly as models/story-world/evaluate.py
 * (story_specs) draws them with sfrng, so any seed gives the same stories in both languages;
 * and the reference set (clean renders of 128 identities, two each) the reference row reads.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { Rng } from '../../src/engine/random';
import { Float32Tensor, float32 } from '../../src/engine/tensor';
import { projectRoot } from '../../src/util/project-root';

export const FRAMES = 6;
export const ID_FRAMES = 2;

export interface World {
  attributes: Record<string, string[]>;
  identity_keys: string[];
  poses: string[];
  scenes: string[];
  scene_phrases: Record<string, string>;
}

export interface SpecFrame {
  pose: string;
  scene: string;
  seed: number;
}

export interface StorySpec {
  /** Index into the reference set: the story's character. */
  reference: number;
  csaSeed: number;
  frames: SpecFrame[];
}

export function loadWorld(packDir: string): World {
  return JSON.parse(readFileSync(join(packDir, 'world.json'), 'utf8')) as World;
}

export function storySpecs(world: World, seed: number, n: number, references: number): StorySpec[] {
  const rng = new Rng(seed);
  const out: StorySpec[] = [];
  for (let k = 0; k < n; k++) {
    const reference = rng.below(references);
    const csaSeed = rng.nextU32();
    const frames: SpecFrame[] = [];
    for (let i = 0; i < FRAMES; i++) {
      const pose = world.poses[rng.below(world.poses.length)]!;
      const scene = world.scenes[rng.below(world.scenes.length)]!;
      frames.push({ pose, scene, seed: rng.nextU32() });
    }
    out.push({ reference, csaSeed, frames });
  }
  return out;
}

function attributePhrase(key: string, value: string): string {
  switch (key) {
    case 'hair': return `${value} hair`;
    case 'skin': return `${value} skin`;
    case 'shirt': return `${/^[aeiou]/.test(value) ? 'an' : 'a'} ${value} shirt`;
    case 'trousers': return `${value} trousers`;
    default: return value === 'none' ? 'no hat' : `a ${value}`;
  }
}

/** world.caption: "a person with red hair, ... and a crown waving in the city". */
export function caption(world: World, identity: readonly number[], named: boolean, pose: string, scene: string): string {
  const parts = named ? world.identity_keys.map((k, i) => attributePhrase(k, world.attributes[k]![identity[i]!]!)) : [];
  const who = parts.length === 0 ? 'a person'
    : parts.length === 1 ? `a person with ${parts[0]}`
      : `a person with ${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`;
  return `${who} ${pose} ${world.scene_phrases[scene]}`;
}

export interface ReferenceSet {
  /** Label indices per identity, in world.identity_keys order. */
  identities: number[][];
  /** Each identity's pictures' (pose, scene). */
  actions: Array<Array<[string, string]>>;
  perIdentity: number;
  /** [perIdentity, 3, S, S] in [-1, 1] of identity i. */
  pictures(i: number): Float32Tensor;
}

export const REFERENCE_SET = join(projectRoot(), 'bench', 'consistency', 'reference-set');

export async function loadReferenceSet(base = REFERENCE_SET): Promise<ReferenceSet> {
  const meta = JSON.parse(readFileSync(`${base}.json`, 'utf8')) as { per_identity: number; identities: number[][]; actions: Array<Array<[string, string]>> };
  const { data, info } = await sharp(`${base}.png`).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const per = meta.per_identity;
  const S = info.width / per;
  if (info.height !== S * meta.identities.length) throw new Error(`${base}.png is ${info.width}x${info.height}; expected ${per} columns and ${meta.identities.length} rows of ${S}-pixel frames`);
  return {
    identities: meta.identities, actions: meta.actions, perIdentity: per,
    pictures(i: number): Float32Tensor {
      const t = float32([per, 3, S, S]);
      for (let p = 0; p < per; p++) {
        for (let y = 0; y < S; y++) {
          for (let x = 0; x < S; x++) {
            const src = ((i * S + y) * info.width + p * S + x) * 3;
            for (let c = 0; c < 3; c++) t.data[((p * 3 + c) * S + y) * S + x] = data[src + c]! / 127.5 - 1;
          }
        }
      }
      return t;
    },
  };
}
