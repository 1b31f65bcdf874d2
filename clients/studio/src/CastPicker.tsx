/**
 * The cast of a new story: any of the project's characters, found by typing part of a name or
 * description (the API searches; a project can hold more characters than one list shows). The
 * characters chosen stay listed, ticked, whatever the search.
 */
import { useDeferredValue, useState } from 'react';
import { useQuery } from 'urql';
import { LISTS_CHARACTERS } from './cache-hints';
import { CastCandidatesDocument } from './generated/graphql';

export interface CastMember {
  id: string;
  name: string;
}

export function CastPicker({ cast, onChange }: { cast: CastMember[]; onChange(cast: CastMember[]): void }) {
  const [search, setSearch] = useState('');
  // Typing fast asks for the last text, not every keystroke's.
  const asked = useDeferredValue(search.trim());
  const [{ data }] = useQuery({ query: CastCandidatesDocument, variables: { search: asked || null }, context: LISTS_CHARACTERS });
  const found = data?.characters.edges.map((e) => e.node) ?? [];
  const shown = [...cast, ...found.filter((c) => !cast.some((m) => m.id === c.id))];
  const toggle = (c: CastMember) => onChange(cast.some((m) => m.id === c.id) ? cast.filter((m) => m.id !== c.id) : [...cast, { id: c.id, name: c.name }]);

  return (
    <fieldset className="cast">
      <legend>Cast</legend>
      <input type="search" name="castSearch" className="cast-search" placeholder="Find a character" aria-label="Find a character"
        value={search} onChange={(e) => setSearch(e.target.value)} />
      {data && found.length === 0 && cast.length === 0 && (
        <span className="hint">{asked ? `No character matches “${asked}”.` : 'No characters yet: every frame will be without one.'}</span>
      )}
      {shown.map((c) => (
        <label key={c.id} className="check">
          <input type="checkbox" name="cast" value={c.name} checked={cast.some((m) => m.id === c.id)} onChange={() => toggle(c)} />
          {c.name}
        </label>
      ))}
      {data?.characters.pageInfo.hasNextPage && <span className="hint more-matches">More characters match: type part of a name.</span>}
    </fieldset>
  );
}
