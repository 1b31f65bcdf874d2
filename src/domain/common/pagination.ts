import { badInput } from './errors';
import { LIMITS } from './validation';

export interface PageArgs {
  first?: number | null;
  after?: string | null;
}

/** Which end of a list comes first (lists in creation order). */
export type ListOrder = 'OLDEST_FIRST' | 'NEWEST_FIRST';

export interface Page<T> {
  items: T[];
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  cursorOf(item: T): string;
}

export const DEFAULT_PAGE_SIZE = 20;

export function pageSize(first: number | null | undefined): number {
  const n = first ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(n) || n < 0 || n > LIMITS.pageSize) throw badInput('first', `first must be from 0 to ${LIMITS.pageSize}`);
  return n;
}

/** Cursors for lists ordered by (created_at, id); opaque to clients. */
export function encodeTimeCursor(createdAt: Date, id: string): string {
  return Buffer.from(`t:${createdAt.toISOString()}|${id}`).toString('base64url');
}

/**
 * Only what encodeTimeCursor writes is accepted: a four-digit year from 0001 (JavaScript dates
 * reach years PostgreSQL cannot store, and the query failed on them) and a well-formed uuid.
 */
export function decodeTimeCursor(cursor: string): { createdAt: Date; id: string } {
  const text = Buffer.from(cursor, 'base64url').toString();
  const match = /^t:((?!0000)\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)\|([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/.exec(text);
  const createdAt = match ? new Date(match[1]) : undefined;
  // The round trip also refuses dates that do not exist (02-30), which Date would roll over.
  if (!match || !createdAt || Number.isNaN(createdAt.getTime()) || createdAt.toISOString() !== match[1]) {
    throw badInput('after', 'after is not a valid cursor');
  }
  return { createdAt, id: match[2] };
}

/** Cursors for frames, ordered by position. */
export function encodePositionCursor(position: number): string {
  return Buffer.from(`p:${position}`).toString('base64url');
}

export function decodePositionCursor(cursor: string): number {
  const match = /^p:(\d{1,6})$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!match) throw badInput('after', 'after is not a valid cursor');
  return Number(match[1]);
}

/** Turns a `LIMIT first + 1` result into a page. */
export function toPage<T>(rows: T[], first: number, hasPrevious: boolean, cursorOf: (item: T) => string): Page<T> {
  return { items: rows.slice(0, first), hasNextPage: rows.length > first, hasPreviousPage: hasPrevious, cursorOf };
}
