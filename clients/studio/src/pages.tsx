/**
 * Lists longer than a page (the API gives at most 100 items at a time): the view keeps the
 * cursors of the pages it shows and renders one component per page, each with its own query,
 * which is how urql's document cache keeps every page fresh after a change.
 */
import { Fragment, useCallback, useState } from 'react';
import type { ReactNode } from 'react';

function usePageCursors(): { cursors: (string | null)[]; more: (cursor: string) => void } {
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  // Twice the same cursor (a double click) is one page.
  const more = useCallback((cursor: string) => setCursors((list) => (list.includes(cursor) ? list : [...list, cursor])), []);
  return { cursors, more };
}

/** The button under the last page, while the API says there is more. */
export function MorePages({ pageInfo, label, onMore }: {
  pageInfo: { hasNextPage: boolean; endCursor?: string | null } | undefined;
  label: string;
  onMore: (cursor: string) => void;
}) {
  if (!pageInfo?.hasNextPage || !pageInfo.endCursor) return null;
  const cursor = pageInfo.endCursor;
  return (
    <li className="more-pages">
      <button type="button" className="more" onClick={() => onMore(cursor)}>{label}</button>
    </li>
  );
}

export interface PageProps {
  /** The cursor this page starts after; null for the first. */
  after: string | null;
  /** The last page shown: it offers the next. */
  last: boolean;
  onMore(cursor: string): void;
}

/** A list shown page after page: `page` draws one page (its own query) into the one <ul>. */
export function PagedList({ className, page }: { className: string; page(props: PageProps): ReactNode }) {
  const { cursors, more } = usePageCursors();
  return (
    <ul className={className}>
      {cursors.map((after, i) => <Fragment key={after ?? ''}>{page({ after, last: i === cursors.length - 1, onMore: more })}</Fragment>)}
    </ul>
  );
}
