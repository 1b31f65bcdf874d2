import DataLoader from 'dataloader';
import type { TenantSession } from '../db/tenant-session';
import { Character } from '../db/entities/character.entity';
import { Frame } from '../db/entities/frame.entity';
import { Image } from '../db/entities/image.entity';
import { Render } from '../db/entities/render.entity';
import { ReferenceImage } from '../db/entities/reference-image.entity';
import { Story } from '../db/entities/story.entity';
import { ApiKey } from '../db/entities/api-key.entity';
import { Project } from '../db/entities/project.entity';
import { Webhook } from '../db/entities/webhook.entity';
import { WebhookDelivery } from '../db/entities/webhook-delivery.entity';
import { WEBHOOK_COLUMNS } from '../domain/webhooks/webhook.service';
import { GenerationJob } from '../db/entities/generation-job.entity';
import type { ObjectLiteral, EntityTarget } from 'typeorm';
import { API_KEY_COLUMNS } from '../domain/api-keys/api-key.service';
import { Page, decodePositionCursor, decodeTimeCursor, encodePositionCursor, encodeTimeCursor, pageSize, toPage } from '../domain/common/pagination';

export interface RenderPageKey {
  frameId: string;
  first?: number | null;
  after?: string | null;
}

export interface FramePageKey {
  storyId: string;
  first?: number | null;
  after?: string | null;
}

/**
 * One set per request, so caching never crosses requests or projects. Every relation the schema
 * exposes loads through one of these: one statement per relation per request, whatever the
 * number of parents.
 */
export function createLoaders(session: TenantSession) {
  const byId = <T extends ObjectLiteral & { id: string }>(target: EntityTarget<T>, table: string, columns = '*') =>
    new DataLoader<string, T | undefined>(async (ids) => {
      const rows = await session.rows(target, `SELECT ${columns} FROM ${table} WHERE id = ANY($1::uuid[])`, [ids]);
      const map = new Map(rows.map((r) => [r.id, r]));
      return ids.map((id) => map.get(id));
    });

  const character = byId(Character, 'characters');

  /** Cast by story id, in cast order. Primes `character`, so frames' characters cost nothing more. */
  const cast = new DataLoader<string, Character[]>(async (storyIds) => {
    const rows = await session.query<Record<string, unknown> & { story_id: string }>(
      `SELECT c.*, sc.story_id FROM story_characters sc JOIN characters c ON c.id = sc.character_id
       WHERE sc.story_id = ANY($1::uuid[]) ORDER BY sc.story_id, sc.position`, [storyIds]);
    const characters = session.map(Character, rows);
    const grouped = new Map<string, Character[]>(storyIds.map((id) => [id, []]));
    characters.forEach((c, i) => {
      grouped.get(rows[i].story_id)!.push(c);
      character.prime(c.id, c);
    });
    return storyIds.map((id) => grouped.get(id)!);
  });

  /** A page of frames per (story, first, after); keys with the same page shape share one statement. */
  const framePage = new DataLoader<FramePageKey, Page<Frame>, string>(async (keys) => {
    const groups = new Map<string, FramePageKey[]>();
    for (const key of keys) {
      const shape = `${key.first ?? ''}|${key.after ?? ''}`;
      groups.set(shape, [...(groups.get(shape) ?? []), key]);
    }
    const pages = new Map<string, Page<Frame>>();
    for (const group of groups.values()) {
      const first = pageSize(group[0].first);
      const after = group[0].after ? decodePositionCursor(group[0].after) : 0;
      const rows = await session.rows(Frame,
        `SELECT f.* FROM unnest($1::uuid[]) AS s(id)
         CROSS JOIN LATERAL (
           SELECT * FROM frames WHERE story_id = s.id AND position > $2 ORDER BY position LIMIT $3
         ) f`,
        [group.map((k) => k.storyId), after, first + 1]);
      for (const key of group) {
        const page = toPage(rows.filter((f) => f.storyId === key.storyId), first, after > 0, (f) => encodePositionCursor(f.position));
        pages.set(frameKey(key), page);
      }
    }
    return keys.map((key) => pages.get(frameKey(key))!);
  }, { cacheKeyFn: frameKey });

  const currentRender = new DataLoader<string, Render | undefined>(async (frameIds) => {
    const rows = await session.rows(Render, `SELECT * FROM renders WHERE frame_id = ANY($1::uuid[]) AND is_current`, [frameIds]);
    const map = new Map(rows.map((r) => [r.frameId, r]));
    return frameIds.map((id) => map.get(id));
  });

  /** A page of renders per (frame, first, after), oldest first; keys with the same page shape share one statement. */
  const renderPage = new DataLoader<RenderPageKey, Page<Render>, string>(async (keys) => {
    const groups = new Map<string, RenderPageKey[]>();
    for (const key of keys) groups.set(`${key.first ?? ''}|${key.after ?? ''}`, [...(groups.get(`${key.first ?? ''}|${key.after ?? ''}`) ?? []), key]);
    const pages = new Map<string, Page<Render>>();
    for (const group of groups.values()) {
      const first = pageSize(group[0].first);
      const after = group[0].after ? decodeTimeCursor(group[0].after) : null;
      const rows = await session.rows(Render,
        `SELECT r.* FROM unnest($1::uuid[]) AS f(id)
         CROSS JOIN LATERAL (
           SELECT * FROM renders WHERE frame_id = f.id AND ($2::timestamptz IS NULL OR (created_at, id) > ($2, $3::uuid))
           ORDER BY created_at, id LIMIT $4
         ) r`,
        [group.map((k) => k.frameId), after?.createdAt ?? null, after?.id ?? null, first + 1]);
      for (const key of group) {
        pages.set(renderKey(key), toPage(rows.filter((r) => r.frameId === key.frameId), first, after !== null, (r) => encodeTimeCursor(r.createdAt, r.id)));
      }
    }
    return keys.map((key) => pages.get(renderKey(key))!);
  }, { cacheKeyFn: renderKey });

  /** Renders a job made, by job id, in frame order (variations of a frame in order). */
  const jobRenders = new DataLoader<string, Render[]>(async (jobIds) => {
    const rows = await session.rows(Render,
      `SELECT r.* FROM renders r JOIN frames f ON f.id = r.frame_id WHERE r.job_id = ANY($1::uuid[]) ORDER BY f.position, r.variation, r.created_at`, [jobIds]);
    return jobIds.map((id) => rows.filter((r) => r.jobId === id));
  });

  /** Reference images by reference set id, in order. */
  const referenceImages = new DataLoader<string, ReferenceImage[]>(async (setIds) => {
    const rows = await session.rows(ReferenceImage,
      `SELECT * FROM reference_images WHERE set_id = ANY($1::uuid[]) ORDER BY set_id, position`, [setIds]);
    return setIds.map((id) => rows.filter((r) => r.setId === id));
  });

  return {
    project: byId(Project, 'projects'),
    referenceImages,
    job: byId(GenerationJob, 'generation_jobs'),
    renderPage,
    jobRenders,
    apiKey: byId(ApiKey, 'api_keys', API_KEY_COLUMNS),
    character,
    story: byId(Story, 'stories'),
    frame: byId(Frame, 'frames'),
    render: byId(Render, 'renders'),
    image: byId(Image, 'images'),
    webhook: byId(Webhook, 'webhooks', WEBHOOK_COLUMNS),
    webhookDelivery: byId(WebhookDelivery, 'webhook_deliveries'),
    cast,
    framePage,
    currentRender,
  };
}

export type Loaders = ReturnType<typeof createLoaders>;

function renderKey(key: RenderPageKey): string {
  return `${key.frameId}|${key.first ?? ''}|${key.after ?? ''}`;
}

function frameKey(key: FramePageKey): string {
  return `${key.storyId}|${key.first ?? ''}|${key.after ?? ''}`;
}
