import { randomInt } from 'node:crypto';
import type { TenantSession } from '../../db/tenant-session';
import { Character } from '../../db/entities/character.entity';
import { conflict, isUniqueViolation, notFound } from '../common/errors';
import { releaseImages } from '../renders/image-release';
import { pageByCreation, textSearch } from '../common/creation-page';
import type { Page, PageArgs } from '../common/pagination';
import { LIMITS, MAX_SEED, intInRange, numberInRange, optionalText, requiredText, seed } from '../common/validation';

export interface ConsistencyInput {
  identityFrames?: number | null;
  samplingRate?: number | null;
}

export interface CharacterInput {
  name?: string | null;
  description?: string | null;
  negativePrompt?: string | null;
  seed?: number | null;
  consistency?: ConsistencyInput | null;
}

/** samplingRate has none: null means the model pack's own default rate (csa.default_rate). */
export const CHARACTER_DEFAULTS = { identityFrames: 2 } as const;

/** Fields that define the character's identity: changing any of them makes a new anchor version. */
const ANCHOR_FIELDS = ['description', 'negativePrompt', 'seed', 'identityFrames', 'samplingRate'] as const;

type CharacterFields = Pick<Character, 'name' | (typeof ANCHOR_FIELDS)[number]>;

const NAME_KEY = 'characters_project_name_key';

export class CharacterService {
  async create(session: TenantSession, input: CharacterInput): Promise<Character> {
    const fields = validate({
      name: input.name ?? '',
      description: input.description ?? '',
      negativePrompt: input.negativePrompt ?? '',
      seed: input.seed ?? randomInt(0, MAX_SEED),
      identityFrames: input.consistency?.identityFrames ?? CHARACTER_DEFAULTS.identityFrames,
      samplingRate: input.consistency?.samplingRate ?? null,
    });
    return session.atomically(() => withNameConflict(fields.name, () => session.one(Character,
      `INSERT INTO characters (project_id, name, description, negative_prompt, seed, identity_frames, sampling_rate, anchor_version)
       VALUES ($1, $2, $3, $4, $5, $6, $7, 1) RETURNING *`,
      [session.projectId, fields.name, fields.description, fields.negativePrompt,
        fields.seed, fields.identityFrames, fields.samplingRate]))) as Promise<Character>;
  }

  async update(session: TenantSession, id: string, input: CharacterInput): Promise<Character> {
    return session.atomically(async () => {
      const current = await session.one(Character, `SELECT * FROM characters WHERE id = $1 FOR UPDATE`, [id]);
      if (!current) throw notFound('id', 'character');
      const next = validate({
        name: input.name ?? current.name,
        description: input.description ?? current.description,
        negativePrompt: input.negativePrompt ?? current.negativePrompt,
        seed: input.seed ?? current.seed,
        identityFrames: input.consistency?.identityFrames ?? current.identityFrames,
        // An explicit null goes back to the pack's default; leaving it out keeps the rate.
        samplingRate: input.consistency?.samplingRate === undefined ? current.samplingRate : input.consistency.samplingRate,
      });
      const anchorChanged = ANCHOR_FIELDS.some((field) => next[field] !== current[field]);
      return withNameConflict(next.name, () => session.one(Character,
        `UPDATE characters SET name = $2, description = $3, negative_prompt = $4, seed = $5,
           identity_frames = $6, sampling_rate = $7, anchor_version = anchor_version + $8, updated_at = now()
         WHERE id = $1 RETURNING *`,
        [id, next.name, next.description, next.negativePrompt, next.seed,
          next.identityFrames, next.samplingRate, anchorChanged ? 1 : 0])) as Promise<Character>;
    });
  }

  /** Refused while a story casts the character: its renders and frames depend on it. */
  async delete(session: TenantSession, id: string): Promise<void> {
    await session.atomically(async () => {
      const [found] = await session.query<{ set_id: string | null }>(
        `SELECT reference_image_set_id AS set_id FROM characters WHERE id = $1 FOR UPDATE`, [id]);
      if (!found) throw notFound('id', 'character');
      const [{ count }] = await session.query<{ count: number }>(
        `SELECT count(*)::int AS count FROM story_characters WHERE character_id = $1`, [id]);
      if (count > 0) throw conflict('id', `the character is cast in ${count} ${count === 1 ? 'story' : 'stories'}; remove it from them first`);
      await session.query(`DELETE FROM characters WHERE id = $1`, [id]);
      if (found.set_id) {
        // Its reference pictures go with it, unless something else uses them.
        const pictures = await session.query<{ image_id: string }>(`SELECT image_id FROM reference_images WHERE set_id = $1`, [found.set_id]);
        await session.query(`DELETE FROM reference_image_sets WHERE id = $1`, [found.set_id]);
        await releaseImages(session, pictures.map((p) => p.image_id));
      }
    });
  }

  async list(session: TenantSession, args: PageArgs & { search?: string | null }): Promise<Page<Character>> {
    const search = args.search ? optionalText('search', args.search, LIMITS.nameLength) : '';
    return pageByCreation(session, Character, { table: 'characters', ...(search ? textSearch(['name', 'description'], search) : {}) }, args);
  }

}

function validate(f: CharacterFields): CharacterFields {
  return {
    name: requiredText('name', f.name, LIMITS.nameLength),
    description: requiredText('description', f.description, LIMITS.descriptionLength),
    negativePrompt: optionalText('negativePrompt', f.negativePrompt, LIMITS.negativePromptLength),
    seed: seed('seed', f.seed),
    identityFrames: intInRange('consistency.identityFrames', f.identityFrames, 1, 8),
    samplingRate: f.samplingRate === null ? null : numberInRange('consistency.samplingRate', f.samplingRate, 0, 1, true),
  };
}

async function withNameConflict<T>(name: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (isUniqueViolation(error, NAME_KEY)) throw conflict('name', `a character named "${name}" already exists`);
    throw error;
  }
}
