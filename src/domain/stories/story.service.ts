import type { TenantSession } from '../../db/tenant-session';
import { Story } from '../../db/entities/story.entity';
import { conflict, notFound } from '../common/errors';
import { pageByCreation, textSearch } from '../common/creation-page';
import { LIMITS, optionalText } from '../common/validation';
import type { ListOrder, Page, PageArgs } from '../common/pagination';
import { insertFrames } from '../frames/frame-writer';
import { lockImagesOfFrames, releaseImages } from '../renders/image-release';
import { replaceCast, resolveCast } from './cast';
import { parseScript } from './script-parser';
import type { PackRegistry } from '../../packs/pack-registry';
import { StorySettingsInput, storySettings } from './story-settings';
import type { StyleService } from '../styles/style.service';
import { storyUpdated } from '../../events/publisher';

export interface CreateStoryInput extends StorySettingsInput {
  characterIds?: readonly string[] | null;
  script?: string | null;
}

export interface UpdateStoryInput extends StorySettingsInput {
  characterIds?: readonly string[] | null;
}

export class StoryService {
  /** `packs`: the installed model packs (each story names one; their manifests give defaults and sizes). */
  constructor(private readonly packs: PackRegistry, private readonly defaultModel: string, private readonly styles: StyleService) {}

  async create(session: TenantSession, input: CreateStoryInput): Promise<Story> {
    const settings = storySettings(input, undefined, this.packs, this.defaultModel);
    return session.atomically(async () => {
      settings.style = await this.styles.check(session, settings.style);
      const cast = await resolveCast(session, input.characterIds ?? []);
      const frames = parseScript(input.script ?? '', cast.map((c) => c.name));
      const story = (await session.one(Story,
        `INSERT INTO stories (project_id, title, style, negative_prompt, model, width, height, steps, guidance, scheduler, seed, frame_count)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING *`,
        [session.projectId, settings.title, settings.style, settings.negativePrompt, settings.model, settings.width, settings.height, settings.steps,
          settings.guidance, settings.scheduler, settings.seed, frames.length]))!;
      await replaceCast(session, story.id, cast);
      await insertFrames(session, story.id, frames, cast, 1);
      return story;
    });
  }

  async update(session: TenantSession, id: string, input: UpdateStoryInput): Promise<Story> {
    return session.atomically(async () => {
      const current = await session.one(Story, `SELECT * FROM stories WHERE id = $1 FOR UPDATE`, [id]);
      if (!current) throw notFound('id', 'story');
      // Renders remember the model they were made with; the characters' banks for a new model are built when first needed.
      const settings = storySettings(input, current, this.packs, this.defaultModel);
      if (input.style != null) settings.style = await this.styles.check(session, settings.style);
      if (input.characterIds) {
        const cast = await resolveCast(session, input.characterIds);
        await ensureFramesFitCast(session, id, cast.map((c) => c.id));
        await replaceCast(session, id, cast);
      }
      const story = (await session.one(Story,
        `UPDATE stories SET title = $2, style = $3, model = $4, width = $5, height = $6, steps = $7, guidance = $8,
           scheduler = $9, seed = $10, negative_prompt = $11, updated_at = now()
         WHERE id = $1 RETURNING *`,
        [id, settings.title, settings.style, settings.model, settings.width, settings.height, settings.steps, settings.guidance,
          settings.scheduler, settings.seed, settings.negativePrompt]))!;
      await storyUpdated(session, id);
      return story;
    });
  }

  /**
   * Frames, their renders and the images only they used go with the story (its signed image URLs
   * stop working at once; the files follow after the janitor's grace period); generation jobs
   * keep their history (story_id cleared).
   */
  async delete(session: TenantSession, id: string): Promise<void> {
    await session.atomically(async () => {
      const [story] = await session.query(`SELECT id FROM stories WHERE id = $1 FOR UPDATE`, [id]);
      if (!story) throw notFound('id', 'story');
      const images = await lockImagesOfFrames(session, { storyId: id });
      await session.query(`DELETE FROM stories WHERE id = $1`, [id]);
      await releaseImages(session, images);
      // Subscribers find it gone and complete.
      await storyUpdated(session, id);
    });
  }

  async list(session: TenantSession, args: PageArgs & { order?: ListOrder | null; search?: string | null }): Promise<Page<Story>> {
    const search = args.search ? optionalText('search', args.search, LIMITS.titleLength) : '';
    return pageByCreation(session, Story, {
      table: 'stories', newestFirst: args.order === 'NEWEST_FIRST', ...(search ? textSearch(['title'], search) : {}),
    }, args);
  }

}

/** A frame that names a character cannot lose it from the cast silently. */
async function ensureFramesFitCast(session: TenantSession, storyId: string, castIds: string[]): Promise<void> {
  const [orphan] = await session.query<{ position: number }>(
    `SELECT position FROM frames
     WHERE story_id = $1 AND character_ids IS NOT NULL AND NOT (character_ids <@ $2::uuid[])
     ORDER BY position LIMIT 1`, [storyId, castIds]);
  if (orphan) {
    throw conflict('characterIds', `frame ${orphan.position} shows a character that would leave the cast; change that frame first`);
  }
}
