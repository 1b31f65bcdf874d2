import type { StoryForgeEvent } from './publisher';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const isId = (v: unknown): v is string => typeof v === 'string' && UUID.test(v);

/**
 * A NOTIFY payload from the channel, or undefined when it is not one of ours: anyone with a
 * connection can NOTIFY, so nothing is trusted beyond its shape (ids are re-read under RLS anyway).
 */
export function parseEvent(payload: string | undefined): StoryForgeEvent | undefined {
  if (!payload) return undefined;
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(payload);
  } catch {
    return undefined;
  }
  if (!value || typeof value !== 'object' || !isId(value.projectId)) return undefined;
  if (value.type === 'job.updated' && isId(value.jobId)) {
    return { type: 'job.updated', projectId: value.projectId, jobId: value.jobId, ...(isId(value.storyId) ? { storyId: value.storyId } : {}) };
  }
  if (value.type === 'story.updated' && isId(value.storyId)) {
    return { type: 'story.updated', projectId: value.projectId, storyId: value.storyId };
  }
  if (value.type === 'key.revoked' && isId(value.keyId)) {
    return { type: 'key.revoked', projectId: value.projectId, keyId: value.keyId };
  }
  return undefined;
}
