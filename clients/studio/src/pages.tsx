/**
 * Lists longer than a page (the API gives at most 100 items at a time): the view keeps the
 * cursors of the pages it shows and renders one component per page, each with its own query,
 * which is how urql's document cache keeps every page fresh after a change.
 */
import { useCallback, useState } from 'react';

export function usePageCursors(): { cursors: (string | null)[]; more: (cursor: string) => void } {
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
