import { Character } from '../../db/entities/character.entity';
import { AnchorReference, CharacterAnchor } from '../../db/entities/character-anchor.entity';
import { Frame } from '../../db/entities/frame.entity';
import { GenerationJob, JOB_STATUSES, JobStatus } from '../../db/entities/generation-job.entity';
import { Story } from '../../db/entities/story.entity';
import type { TenantSession } from '../../db/tenant-session';
import { jobUpdated } from '../../events/publisher';
import { JobQueue, queueForPack } from '../../queue/queue';
import { PackInfo, PackRegistry, renderGeometry, sizesInWords } from '../../packs/pack-registry';
import type { Actor } from '../common/actor';
import { AppError, ErrorCode, badInput, conflict, isUniqueViolation, notFound, rateLimited, unsupportedSize } from '../common/errors';
import { pageByCreation } from '../common/creation-page';
import type { ListOrder, Page, PageArgs } from '../common/pagination';
import { LIMITS, MAX_SEED, intInRange, oneOf, requiredText, seed as validSeed } from '../common/validation';
import { installedPack } from '../stories/story-settings';
import type { StyleService } from '../styles/style.service';
import { AnchorRef, EngineSettings, FrameJob, JobKind, JobRequest } from './job-request';
import { anchorRecipe, framePrompt, frameSeed, negativePrompt } from './prompts';

export interface JobLimits {
  /** Queued + running jobs a project may have at once. */
  maxActiveJobs: number;
  /** Told to a client that hit the limit. */
  retryAfterSeconds: number;
}

export interface RegenerateInput {
  seed?: number | null;
  prompt?: string | null;
  variations?: number | null;
}

/** Renders per frame: 1 by default, up to LIMITS.variations. */
function variationCount(n: number | null | undefined): number {
  return n == null ? 1 : intInRange('variations', n, 1, LIMITS.variations);
}

/** Serialises job creation per project, so the limit check and the insert cannot interleave. */
const JOBS_LOCK = 1_917_650_001;

/**
 * Starts and cancels generation jobs. Each start is one savepoint: the job row, the anchor rows
 * it needs and the queue entry commit together or not at all, with the request's transaction.
 */
export class JobService {
  constructor(
    private readonly queue: JobQueue,
    private readonly packs: PackRegistry,
    private readonly defaultPack: string,
    private readonly limits: JobLimits,
    private readonly randomSeed: () => number,
    private readonly styles: StyleService,
  ) {}

  /** `model`: the pack to build the bank for (default: the deployment's default model), at its native size. */
  async buildAnchor(session: TenantSession, actor: Actor, characterId: string, model: string | null | undefined, idempotencyKey?: string): Promise<GenerationJob> {
    const pack = installedPack(this.packs, model ?? this.defaultPack, 'model');
    const asked = { operation: 'buildCharacterAnchor', characterId, ...(model != null && { model }) };
    return this.start(session, actor, { kind: 'anchor', characterId }, { key: idempotencyKey, asked }, async () => {
      const character = await session.one(Character, `SELECT * FROM characters WHERE id = $1 FOR SHARE`, [characterId]);
      if (!character) throw notFound('characterId', 'character');
      const [anchor] = await this.anchors(session, [character], pack);
      return { pack, request: { kind: 'anchor', pack: pack.name, settings: packSettings(pack), anchor: anchor! }, framesTotal: 0 };
    });
  }

  async generateStory(session: TenantSession, actor: Actor, storyId: string, frameIds: readonly string[] | null, idempotencyKey?: string,
    variations?: number | null): Promise<GenerationJob> {
    if (frameIds && frameIds.length === 0) throw badInput('frameIds', 'list at least one frame, or leave frameIds out for all of them');
    if (frameIds && new Set(frameIds).size !== frameIds.length) throw badInput('frameIds', 'frameIds lists a frame twice');
    const n = variationCount(variations);
    // The frames render in story order whatever the list's order, so the order does not make another request.
    const asked = { operation: 'generateStory', storyId, frameIds: frameIds ? [...frameIds].sort() : null, ...(n > 1 && { variations: n }) };
    return this.start(session, actor, { kind: 'story', storyId }, { key: idempotencyKey, asked }, async () => {
      const story = await session.one(Story, `SELECT * FROM stories WHERE id = $1 FOR SHARE`, [storyId]);
      if (!story) throw notFound('storyId', 'story');
      const frames = await session.rows(Frame,
        `SELECT * FROM frames WHERE story_id = $1 AND ($2::uuid[] IS NULL OR id = ANY($2::uuid[])) ORDER BY position`, [storyId, frameIds]);
      if (frameIds && frames.length !== frameIds.length) throw notFound('frameIds', 'frame');
      if (frames.length === 0) throw badInput('storyId', 'the story has no frames to generate');
      return this.renderJob(session, 'story', story, frames, new Map(), n);
    });
  }

  async regenerateFrame(session: TenantSession, actor: Actor, frameId: string, input: RegenerateInput, idempotencyKey?: string): Promise<GenerationJob> {
    const seed = input.seed == null ? this.randomSeed() : validSeed('seed', input.seed);
    const prompt = input.prompt == null ? undefined : requiredText('prompt', input.prompt, LIMITS.promptLength);
    const n = variationCount(input.variations);
    // As the client gave them: no seed (the server draws one) is a request of its own, and its retry is the same.
    const asked = { operation: 'regenerateFrame', frameId, seed: input.seed == null ? null : seed, prompt: prompt ?? null, ...(n > 1 && { variations: n }) };
    return this.start(session, actor, { kind: 'frame', frameId }, { key: idempotencyKey, asked }, async () => {
      const frame = await session.one(Frame, `SELECT * FROM frames WHERE id = $1 FOR SHARE`, [frameId]);
      if (!frame) throw notFound('frameId', 'frame');
      const story = (await session.one(Story, `SELECT * FROM stories WHERE id = $1 FOR SHARE`, [frame.storyId]))!;
      return this.renderJob(session, 'frame', story, [frame], new Map([[frame.id, { seed, prompt }]]), n);
    });
  }

  /** Cancels a queued or running job; a running one stops at its next step. */
  async cancel(session: TenantSession, jobId: string): Promise<GenerationJob> {
    return session.atomically(async () => {
      const job = await session.one(GenerationJob, `SELECT * FROM generation_jobs WHERE id = $1 FOR UPDATE`, [jobId]);
      if (!job) throw notFound('id', 'job');
      if (job.status !== 'QUEUED' && job.status !== 'RUNNING') throw conflict('id', `the job is already ${job.status.toLowerCase()}`);
      const pack = (job.request as Partial<JobRequest>).pack;
      if (job.queueJobId && pack) await this.queue.cancel(session, queueForPack(pack), job.queueJobId);
      const cancelled = (await session.one(GenerationJob,
        `UPDATE generation_jobs SET status = 'CANCELLED', finished_at = now(), updated_at = now() WHERE id = $1 RETURNING *`, [jobId]))!;
      await jobUpdated(session, cancelled);
      return cancelled;
    });
  }

  async list(session: TenantSession, args: PageArgs & { status?: string | null; order?: ListOrder | null }): Promise<Page<GenerationJob>> {
    const status = args.status == null ? null : oneOf<JobStatus>('status', args.status, JOB_STATUSES);
    return pageByCreation(session, GenerationJob, {
      table: 'generation_jobs', newestFirst: args.order === 'NEWEST_FIRST', ...(status ? { filter: 'status = $5', params: [status] } : {}),
    }, args);
  }

  private async renderJob(session: TenantSession, kind: 'story' | 'frame', story: Story, frames: Frame[],
    overrides: Map<string, { seed: number; prompt: string | undefined }>, variations: number) {
    const field = kind === 'story' ? 'storyId' : 'frameId';
    const pack = installedPack(this.packs, story.model, field);
    const geometry = renderGeometry(pack, story);
    if (!geometry) throw unsupportedSize(field, `the story is ${story.width}x${story.height}, which the ${pack.name} model pack does not render (it takes ${sizesInWords(pack)}); change the story's size`);
    const cast = await session.rows(Character,
      `SELECT c.* FROM story_characters sc JOIN characters c ON c.id = sc.character_id WHERE sc.story_id = $1 ORDER BY sc.position FOR SHARE OF c`,
      [story.id]);
    const shown = (f: Frame) => (f.noCharacter ? [] : f.characterIds ? cast.filter((c) => f.characterIds!.includes(c.id)) : cast);
    const needed = cast.filter((c) => frames.some((f) => shown(f).includes(c)));
    const anchors = await this.anchors(session, needed, pack);
    const meter = await this.packs.tokenizer(pack);
    const style = await this.styles.resolve(session, story.style);
    const jobs: FrameJob[] = frames.flatMap((f) => {
      const people = shown(f);
      const override = overrides.get(f.id);
      const composed = framePrompt(f, people, style, pack, meter, override?.prompt);
      const seed = override?.seed ?? frameSeed(f, story);
      // Variations differ only by seed: consecutive ones, so each can be drawn again alone with regenerateFrame(seed).
      return Array.from({ length: variations }, (_, k) => ({
        frameId: f.id, position: f.position,
        prompt: composed.prompt,
        promptWarnings: composed.warnings,
        negativePrompt: negativePrompt(f, story, style, people, pack),
        style: style?.name ?? '',
        seed: (seed + k) % (MAX_SEED + 1),
        ...(k > 0 && { variation: k }),
        characterIds: people.map((c) => c.id),
      }));
    });
    const settings: EngineSettings = { scheduler: story.scheduler, steps: story.steps, guidance: story.guidance, ...geometry.engine };
    return { pack, request: { kind, pack: pack.name, settings, upscale: geometry.upscale, storyId: story.id, frames: jobs, anchors } satisfies JobRequest,
      framesTotal: jobs.length, storyId: story.id };
  }

  /** The anchor row of each character's current version for this model, made on first use. */
  private async anchors(session: TenantSession, characters: Character[], pack: PackInfo): Promise<AnchorRef[]> {
    const refs: AnchorRef[] = [];
    const references = await referencesOf(session, characters);
    for (const c of characters) {
      const pictures = references.get(c.id) ?? [];
      if (pictures.length > 0 && pack.manifest.space !== 'pixel') {
        throw new AppError(ErrorCode.REFERENCES_UNSUPPORTED, `${c.name} is anchored on reference images, which the ${pack.name} model cannot read yet (it draws in latent space and its pack has no image encoder); use a pixel model such as story-world, or remove the reference images`, 'model');
      }
      await session.query(
        `INSERT INTO character_anchors (project_id, character_id, version, pack, model_hash, recipe)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (character_id, version, model_hash) DO NOTHING`,
        [session.projectId, c.id, c.anchorVersion, pack.name, pack.modelHash, anchorRecipe(c, pack, pictures)]);
      const anchor = (await session.one(CharacterAnchor,
        `SELECT * FROM character_anchors WHERE character_id = $1 AND version = $2 AND model_hash = $3`, [c.id, c.anchorVersion, pack.modelHash]))!;
      refs.push({ anchorId: anchor.id, characterId: c.id, version: anchor.version });
    }
    return refs;
  }

  private async start(session: TenantSession, actor: Actor, target: JobTarget,
    idempotency: { key: string | undefined; asked: Record<string, unknown> & { operation: string } },
    prepare: () => Promise<{ pack: PackInfo; request: JobRequest; framesTotal: number; storyId?: string }>): Promise<GenerationJob> {
    const key = idempotency.key === undefined ? undefined : checkIdempotencyKey(idempotency.key);
    const asked: IdempotentRequest | null = key ? { ...idempotency.asked, apiKeyId: actor.keyId } : null;
    return session.atomically(async () => {
      await session.query(`SELECT pg_advisory_xact_lock($1, hashtext($2))`, [JOBS_LOCK, session.projectId]);
      if (key) {
        const existing = await session.one(GenerationJob, `SELECT * FROM generation_jobs WHERE idempotency_key = $1`, [key]);
        if (existing) return sameRequest(existing, target, asked!);
      }
      const [{ active }] = await session.query<{ active: number }>(
        `SELECT count(*)::int AS active FROM generation_jobs WHERE project_id = $1 AND status IN ('QUEUED', 'RUNNING')`, [session.projectId]);
      if (active >= this.limits.maxActiveJobs) {
        throw rateLimited(`the project has ${active} queued or running jobs (the limit is ${this.limits.maxActiveJobs}); wait for some to finish`,
          this.limits.retryAfterSeconds);
      }
      const { pack, request, framesTotal, storyId } = await prepare();
      let job: GenerationJob;
      try {
        job = (await session.one(GenerationJob,
          `INSERT INTO generation_jobs (project_id, kind, status, story_id, frame_id, character_id, request, progress_total, frames_total,
             created_by_key_id, idempotency_key, idempotency_request)
           VALUES ($1, $2, 'QUEUED', $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING *`,
          [session.projectId, target.kind, storyId ?? null, target.frameId ?? null, target.characterId ?? null, request,
            request.settings.steps, framesTotal, actor.keyId, key ?? null, asked]))!;
      } catch (error) {
        if (isUniqueViolation(error, 'generation_jobs_idempotency_key')) throw conflict('Idempotency-Key', 'a request with this Idempotency-Key is still being made; retry it');
        throw error;
      }
      const queueJobId = await this.queue.send(session, queueForPack(pack.name), { jobId: job.id, projectId: session.projectId });
      job = (await session.one(GenerationJob, `UPDATE generation_jobs SET queue_job_id = $2 WHERE id = $1 RETURNING *`, [job.id, queueJobId]))!;
      await jobUpdated(session, job);
      return job;
    });
  }
}

function checkIdempotencyKey(key: string): string {
  if (key.length === 0 || key.length > 200 || !/^[\x21-\x7e]+$/.test(key)) {
    throw badInput('Idempotency-Key', 'the Idempotency-Key header must be 1 to 200 visible ASCII characters');
  }
  return key;
}

type JobTarget = { kind: JobKind; storyId?: string; frameId?: string; characterId?: string };

/** The operation, its arguments as the client sent them (validated), and the API key that sent them. */
type IdempotentRequest = Record<string, unknown> & { operation: string; apiKeyId: string };

/** Argument names as the client knows them, for saying what differs. */
const ARGUMENT_NAMES: Record<string, string> = {
  operation: 'mutation', apiKeyId: 'API key', characterId: 'characterId', storyId: 'storyId', frameIds: 'frameIds',
  frameId: 'frameId', seed: 'seed', prompt: 'prompt', variations: 'variations',
};

/**
 * A retried request gets its job back. The same key on any other request (another operation,
 * target, seed, prompt or frame list, or sent by another API key) is refused, naming what differs:
 * answering it with the first job would tell the client its new request was taken when it was not.
 */
function sameRequest(job: GenerationJob, target: JobTarget, asked: IdempotentRequest): GenerationJob {
  const first = job.idempotencyRequest;
  if (!first) {
    // A job made before requests were recorded: the older, coarser check.
    const same = job.kind === target.kind && (target.storyId === undefined || job.storyId === target.storyId)
      && (target.frameId === undefined || job.frameId === target.frameId) && (target.characterId === undefined || job.characterId === target.characterId);
    if (!same) throw idempotencyKeyReused('another request');
    return job;
  }
  if (first.apiKeyId !== asked.apiKeyId) throw idempotencyKeyReused('another API key of this project');
  const differs = [...new Set([...Object.keys(first), ...Object.keys(asked)])]
    .filter((name) => JSON.stringify(first[name] ?? null) !== JSON.stringify(asked[name] ?? null));
  if (differs.length > 0) {
    const what = first.operation !== asked.operation ? `another mutation (${String(first.operation)})`
      : `a request with another ${differs.map((d) => ARGUMENT_NAMES[d] ?? d).join(' and ')}`;
    throw idempotencyKeyReused(what);
  }
  return job;
}

function idempotencyKeyReused(by: string) {
  return conflict('Idempotency-Key', `this Idempotency-Key was already used by ${by}; send a new key for a new request`);
}

/** An anchor built on its own: the pack's defaults at its native size. */
export function packSettings(pack: PackInfo): EngineSettings {
  const d = pack.manifest.defaults;
  return { scheduler: d.scheduler, steps: d.steps, guidance: d.guidance, ...pack.native };
}

/** Each character's reference pictures, in order (none for a character without a reference set). */
async function referencesOf(session: TenantSession, characters: readonly Character[]): Promise<Map<string, AnchorReference[]>> {
  const withSet = characters.filter((c) => c.referenceImageSetId !== null);
  if (withSet.length === 0) return new Map();
  const rows = await session.query<{ set_id: string; image_id: string; content_hash: string; x: number | null; y: number; w: number; h: number }>(
    `SELECT ri.set_id, ri.image_id, i.content_hash, ri.crop_x AS x, ri.crop_y AS y, ri.crop_width AS w, ri.crop_height AS h
     FROM reference_images ri JOIN images i ON i.id = ri.image_id
     WHERE ri.set_id = ANY($1::uuid[]) ORDER BY ri.set_id, ri.position`, [withSet.map((c) => c.referenceImageSetId)]);
  return new Map(withSet.map((c) => [c.id, rows.filter((r) => r.set_id === c.referenceImageSetId).map((r) => ({
    imageId: r.image_id, contentHash: r.content_hash, crop: r.x === null ? null : { x: r.x, y: r.y, width: r.w, height: r.h },
  }))]));
}
