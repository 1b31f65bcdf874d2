import type { EntityTarget, ObjectLiteral } from 'typeorm';
import type { TenantSession } from '../../db/tenant-session';
import { Page, PageArgs, decodeTimeCursor, encodeTimeCursor, pageSize, toPage } from './pagination';

export interface CreationListQuery {
  table: string;
  columns?: string;
  /** Extra SQL condition; its parameters start at $5. */
  filter?: string;
  params?: unknown[];
  /** Oldest first unless told. A cursor is a place in the list: either order reads on from it. */
  newestFirst?: boolean;
}

/** A page of a project's rows in creation order, by (created_at, id) cursors. */
export async function pageByCreation<T extends ObjectLiteral & { id: string; createdAt: Date }>(
  session: TenantSession, target: EntityTarget<T>, query: CreationListQuery, args: PageArgs,
): Promise<Page<T>> {
  const first = pageSize(args.first);
  const after = args.after ? decodeTimeCursor(args.after) : null;
  const [beyond, direction] = query.newestFirst ? ['<', 'DESC'] : ['>', 'ASC'];
  const rows = await session.rows(target,
    `SELECT ${query.columns ?? '*'} FROM ${query.table}
     WHERE project_id = $1 AND ($2::timestamptz IS NULL OR (created_at, id) ${beyond} ($2, $3::uuid))
       ${query.filter ? `AND (${query.filter})` : ''}
     ORDER BY created_at ${direction}, id ${direction} LIMIT $4`,
    [session.projectId, after?.createdAt ?? null, after?.id ?? null, first + 1, ...(query.params ?? [])]);
  return toPage(rows, first, after !== null, (row) => encodeTimeCursor(row.createdAt, row.id));
}

/** A case-insensitive substring match of `text` (taken literally) in any of `columns`, as a list's filter. */
export function textSearch(columns: string[], text: string): Pick<CreationListQuery, 'filter' | 'params'> {
  const literal = text.replace(/[\\%_]/g, (c) => '\\' + c);
  return { filter: columns.map((c) => `${c} ILIKE '%' || $5 || '%' ESCAPE '\\'`).join(' OR '), params: [literal] };
}
