/** The anchor recipe a character's bank is built from: the pack's templates, seeds, and its CSA rate. */
import { join } from 'node:path';
import { PackRegistry } from '../../src/packs/pack-registry';
import { anchorRecipe } from '../../src/domain/jobs/prompts';
import type { Character } from '../../src/db/entities/character.entity';

const packs = PackRegistry.load(join(__dirname, '../../models/packs'));
const pack = packs.get('story-world')!;

function character(samplingRate: number | null): Character {
  return { description: 'a person with red hair', negativePrompt: '', seed: 40, identityFrames: 2, samplingRate } as Character;
}

describe('anchorRecipe', () => {
  it("uses the pack's default rate when the character has none, and the character's own otherwise", () => {
    expect(pack.manifest.csa!.defaultRate).toBeGreaterThan(0);
    expect(anchorRecipe(character(null), pack).rate).toBe(pack.manifest.csa!.defaultRate);
    expect(anchorRecipe(character(0.3), pack).rate).toBe(0.3);
  });

  it("fills the pack's identity templates with the description, one seed each", () => {
    const r = anchorRecipe(character(null), pack);
    expect(r.prompts).toHaveLength(2);
    for (const p of r.prompts) expect(p.startsWith('a person with red hair ')).toBe(true);
    expect(r.seeds).toEqual([40, 41]);
    expect(r.csaSeed).toBe(40);
  });
});
