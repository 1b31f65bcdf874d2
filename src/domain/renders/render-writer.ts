/**
 * Saves a finished render: its image rows (by content hash), the render row, and the switch of
 * the frame's current render, in one savepoint under the frame's row lock. At most one render per
 * (job, frame): a retried job that already saved a frame gets the saved render back.
 */
import type { PromptWarning } from '../prompts/prompt-warnings';
import type { TenantSession } from '../../db/tenant-session';
import { jobUpdated, storyUpdated } from '../../events/publisher';
import { forgetStoredFiles } from './image-release';
import { badInput, notFound } from '../common/errors';
import { StoredImage, upsertImage } from '../images/image-rows';

export type { StoredImage } from '../images/image-rows';

export interface NewRender {
  jobId: string;
  frameId: string;
  png: StoredImage;
  webp: StoredImage;
  thumbnail: StoredImage;
  prompt: string;
  negativePrompt: string;
  seed: number;
  steps: number;
  guidance: number;
  scheduler: string;
  model: string;
  width: number;
  height: number;
  anchorVersions: Record<string, number>;
  timings: Record<string, number>;
  durationMs: number;
  consistencyScore: number | null;
  promptWarnings: PromptWarning[];
  /** The style preset's name ('' for none). */
  style: string;
  /** 0 (or absent): the job's render of the frame, which becomes current; n > 0: a further variation, kept in the history. */
  variation?: number;
}

/** The render's id, or undefined when the frame was deleted meanwhile. */
export async function saveRender(session: TenantSession, r: NewRender): Promise<string | undefined> {
  return session.atomically(async () => {
    const [frame] = await session.query<{ story_id: string }>(`SELECT story_id FROM frames WHERE id = $1 FOR UPDATE`, [r.frameId]);
    if (!frame) {
      // Its files are already stored: queue them for removal unless another image row uses them.
      await forgetStoredFiles(session, [r.png, r.webp, r.thumbnail]);
      return undefined;
    }
    const variation = r.variation ?? 0;
    const [saved] = await session.query<{ id: string }>(`SELECT id FROM renders WHERE job_id = $1 AND frame_id = $2 AND variation = $3`,
      [r.jobId, r.frameId, variation]);
    if (saved) return saved.id;
    const [png, webp, thumbnail] = [await upsertImage(session, r.png), await upsertImage(session, r.webp), await upsertImage(session, r.thumbnail)];
    const current = variation === 0;
    if (current) await session.query(`UPDATE renders SET is_current = false WHERE frame_id = $1 AND is_current`, [r.frameId]);
    const [render] = await session.query<{ id: string }>(
      `INSERT INTO renders (project_id, frame_id, job_id, image_id, webp_image_id, thumbnail_image_id, prompt, negative_prompt, seed,
         steps, guidance, scheduler, model, width, height, anchor_versions, timings, duration_ms, consistency_score, prompt_warnings, variation, is_current, style)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23) RETURNING id`,
      [session.projectId, r.frameId, r.jobId, png, webp, thumbnail, r.prompt, r.negativePrompt, r.seed, r.steps, r.guidance,
        r.scheduler, r.model, r.width, r.height, r.anchorVersions, r.timings, Math.round(r.durationMs), r.consistencyScore,
        JSON.stringify(r.promptWarnings), variation, current, r.style]);
    await session.query(
      `UPDATE generation_jobs SET frames_done = (SELECT count(*) FROM renders WHERE job_id = $1), updated_at = now() WHERE id = $1`, [r.jobId]);
    await jobUpdated(session, { id: r.jobId, storyId: frame.story_id });
    await storyUpdated(session, frame.story_id);
    return render!.id;
  });
}

/**
 * Makes an earlier render of the frame its current one again (the history stays as it is). Under
 * the frame's row lock, as saveRender switches renders: a render being saved at the same moment
 * either lands before (and is replaced by this choice) or after (and becomes current itself).
 */
export async function setCurrentRender(session: TenantSession, frameId: string, renderId: string): Promise<void> {
  await session.atomically(async () => {
    const [frame] = await session.query<{ story_id: string }>(`SELECT story_id FROM frames WHERE id = $1 FOR UPDATE`, [frameId]);
    if (!frame) throw notFound('frameId', 'frame');
    const [render] = await session.query<{ frame_id: string; is_current: boolean }>(`SELECT frame_id, is_current FROM renders WHERE id = $1`, [renderId]);
    if (!render) throw notFound('renderId', 'render');
    if (render.frame_id !== frameId) throw badInput('renderId', 'the render belongs to another frame');
    if (render.is_current) return;
    await session.query(`UPDATE renders SET is_current = false WHERE frame_id = $1 AND is_current`, [frameId]);
    await session.query(`UPDATE renders SET is_current = true WHERE id = $1`, [renderId]);
    await storyUpdated(session, frame.story_id);
  });
}
