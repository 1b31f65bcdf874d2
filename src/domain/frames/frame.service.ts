import type { TenantSession } from '../../db/tenant-session';
import { Frame } from '../../db/entities/frame.entity';
import { Story } from '../../db/entities/story.entity';
import { badInput, notFound } from '../common/errors';
import { LIMITS, intInRange, optionalText, requiredText, seed } from '../common/validation';
import { loadCast, resolveCast } from '../stories/cast';
import { parseScript } from '../stories/script-parser';
import { insertFrames } from './frame-writer';
import { lockImagesOfFrames, releaseImages } from '../renders/image-release';
import { storyUpdated } from '../../events/publisher';

export interface UpdateFrameInput {
  prompt?: string | null;
  caption?: string | null;
  /** Joined before the story's, the style's and the characters' negative prompts. */
  negativePrompt?: string | null;
  noCharacter?: boolean | null;
  /** Absent: unchanged; null: the whole cast; a list: exactly these cast members. */
  characterIds?: readonly string[] | null;
  /** Absent: unchanged; null: derived from the story seed. */
  seed?: number | null;
}

/**
 * Frames are kept densely numbered 1..n, and name only members of their story's cast. Every
 * change locks the story row first (as updateStory does before changing the cast), so concurrent
 * edits of one story queue up and each checks against what the one before it committed.
 */
export class FrameService {
  async add(session: TenantSession, storyId: string, script: string, position?: number | null): Promise<Frame[]> {
    return session.atomically(async () => {
      const story = await lockStory(session, storyId, 'storyId');
      const cast = await loadCast(session, storyId);
      const parsed = parseScript(script, cast.map((c) => c.name));
      if (parsed.length === 0) throw badInput('script', 'script has no frames');
      if (story.frameCount + parsed.length > LIMITS.framesPerStory) {
        throw badInput('script', `the story has ${story.frameCount} frames; adding ${parsed.length} would pass the limit of ${LIMITS.framesPerStory}`);
      }
      const at = position == null ? story.frameCount + 1 : intInRange('position', position, 1, story.frameCount + 1);
      await session.query(`UPDATE frames SET position = position + $3 WHERE story_id = $1 AND position >= $2`,
        [storyId, at, parsed.length]);
      const frames = await insertFrames(session, storyId, parsed, cast, at);
      await setFrameCount(session, storyId, story.frameCount + parsed.length);
      await storyUpdated(session, storyId);
      return frames;
    });
  }

  async update(session: TenantSession, id: string, input: UpdateFrameInput): Promise<Frame> {
    return session.atomically(async () => {
      // The story row first, as every other story edit does: the cast check below then sees a
      // concurrent updateStory's cast (or that one sees this frame), and the lock order
      // (story, then frame) cannot deadlock with moves and deletes.
      await lockStory(session, (await findFrame(session, id)).storyId, 'id');
      const frame = await session.one(Frame, `SELECT * FROM frames WHERE id = $1 FOR UPDATE`, [id]);
      if (!frame) throw notFound('id', 'frame');
      const prompt = input.prompt == null ? frame.prompt : requiredText('prompt', input.prompt, LIMITS.promptLength);
      const caption = input.caption == null ? frame.caption : optionalText('caption', input.caption, LIMITS.captionLength);
      const negative = input.negativePrompt == null ? frame.negativePrompt : optionalText('negativePrompt', input.negativePrompt, LIMITS.negativePromptLength);
      let noCharacter = input.noCharacter ?? frame.noCharacter;
      let characterIds = frame.characterIds;
      if (input.characterIds !== undefined) {
        characterIds = input.characterIds === null ? null : await castSubset(session, frame.storyId, input.characterIds);
        if (input.noCharacter == null) noCharacter = false;
      }
      if (noCharacter) {
        if (input.characterIds) throw badInput('characterIds', 'a frame with noCharacter shows no characters');
        characterIds = null;
      }
      const frameSeed = input.seed === undefined ? frame.seed : input.seed === null ? null : seed('seed', input.seed);
      const updated = (await session.one(Frame,
        `UPDATE frames SET prompt = $2, caption = $3, no_character = $4, character_ids = $5, seed = $6, negative_prompt = $7, updated_at = now()
         WHERE id = $1 RETURNING *`,
        [id, prompt, caption, noCharacter, characterIds, frameSeed, negative]))!;
      await storyUpdated(session, frame.storyId);
      return updated;
    });
  }

  async move(session: TenantSession, id: string, position: number): Promise<Frame> {
    return session.atomically(async () => {
      const story = await lockStory(session, (await findFrame(session, id)).storyId, 'id');
      const frame = await findFrame(session, id);
      const to = intInRange('position', position, 1, story.frameCount);
      // One statement, so the unique (story_id, position) check only sees the final order.
      await session.query(
        `UPDATE frames SET position = CASE
           WHEN id = $2 THEN $4::int
           WHEN $3::int < $4::int THEN position - 1
           ELSE position + 1 END,
           updated_at = CASE WHEN id = $2 THEN now() ELSE updated_at END
         WHERE story_id = $1 AND position BETWEEN least($3::int, $4::int) AND greatest($3::int, $4::int)`,
        [story.id, id, frame.position, to]);
      await storyUpdated(session, story.id);
      return findFrame(session, id);
    });
  }

  /** Returns the story the frame belonged to. Its renders, and the images only they used, go with it. */
  async delete(session: TenantSession, id: string): Promise<string> {
    return session.atomically(async () => {
      const story = await lockStory(session, (await findFrame(session, id)).storyId, 'id');
      const frame = await findFrame(session, id);
      const images = await lockImagesOfFrames(session, { frameId: id });
      await session.query(`DELETE FROM frames WHERE id = $1`, [id]);
      await releaseImages(session, images);
      await session.query(`UPDATE frames SET position = position - 1 WHERE story_id = $1 AND position > $2`, [story.id, frame.position]);
      await setFrameCount(session, story.id, story.frameCount - 1);
      await storyUpdated(session, story.id);
      return story.id;
    });
  }
}

/** Read again after the story lock: a concurrent move may have changed its position. */
async function findFrame(session: TenantSession, id: string): Promise<Frame> {
  const frame = await session.one(Frame, `SELECT * FROM frames WHERE id = $1`, [id]);
  if (!frame) throw notFound('id', 'frame');
  return frame;
}

async function lockStory(session: TenantSession, id: string, field: string): Promise<Story> {
  const story = await session.one(Story, `SELECT * FROM stories WHERE id = $1 FOR UPDATE`, [id]);
  if (!story) throw notFound(field, 'story');
  return story;
}

async function setFrameCount(session: TenantSession, storyId: string, count: number): Promise<void> {
  await session.query(`UPDATE stories SET frame_count = $2, updated_at = now() WHERE id = $1`, [storyId, count]);
}

async function castSubset(session: TenantSession, storyId: string, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) throw badInput('characterIds', 'list at least one character, or set noCharacter');
  const unique = [...new Set(ids)];
  await resolveCast(session, unique); // NOT_FOUND for ids outside the project, like everywhere else
  const castIds = new Set((await loadCast(session, storyId)).map((c) => c.id));
  if (unique.some((id) => !castIds.has(id))) throw badInput('characterIds', "characterIds must be members of the story's cast");
  return unique;
}
