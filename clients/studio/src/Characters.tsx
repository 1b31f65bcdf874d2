/** The project's characters with their reference pictures, each editable, found by search, and a form for a new one. */
import { useDeferredValue, useState } from 'react';
import type { FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { LISTS_CHARACTERS } from './cache-hints';
import { CharacterEditor, DeleteCharacter } from './CharacterEditor';
import { MorePages, PagedList } from './pages';
import type { PageProps } from './pages';
import { ErrorView } from './ErrorView';
import { CharactersDocument, CreateCharacterDocument } from './generated/graphql';
import type { CharacterCardFragment } from './generated/graphql';
import { ReferenceImages } from './ReferenceImages';

export function Characters() {
  const [search, setSearch] = useState('');
  const asked = useDeferredValue(search.trim());
  return (
    <section className="characters">
      <div className="heading">
        <h1>Characters</h1>
        <input type="search" name="characterSearch" className="list-search" placeholder="Find a character" aria-label="Find a character"
          value={search} onChange={(e) => setSearch(e.target.value)} />
      </div>
      {/* Keyed: another search starts again from its first page. */}
      <PagedList key={asked} className="character-list" page={(p) => <CharactersPage {...p} search={asked} />} />
      <NewCharacter />
    </section>
  );
}

/** One page of the list, with its own query (see pages.tsx). */
function CharactersPage({ after, search, last, onMore }: PageProps & { search: string }) {
  const [{ data, fetching, error }] = useQuery({ query: CharactersDocument, variables: { after, search: search || null }, context: LISTS_CHARACTERS });
  const characters = data?.characters.edges.map((e) => e.node) ?? [];
  return (
    <>
      {error && <li><ErrorView error={error} /></li>}
      {after === null && !fetching && !error && characters.length === 0 && (
        <li className="empty">{search ? `No character matches “${search}”.` : 'No characters yet.'}</li>
      )}
      {characters.map((c) => <CharacterCard key={c.id} character={c} />)}
      {last && <MorePages pageInfo={data?.characters.pageInfo} label="More characters" onMore={onMore} />}
    </>
  );
}

function CharacterCard({ character: c }: { character: CharacterCardFragment }) {
  const [editing, setEditing] = useState(false);
  // The version the card opened with: a later one is marked as changed.
  const [openedAt] = useState(c.anchorVersion);
  return (
    <li className="card character" data-character={c.name} data-character-id={c.id} data-anchor-version={c.anchorVersion}>
      {editing ? <CharacterEditor character={c} onDone={() => setEditing(false)} /> : (
        <>
          <h2>{c.name}</h2>
          <p className="description">{c.description}</p>
          {c.negativePrompt && <p className="meta negative-prompt">avoid: {c.negativePrompt}</p>}
          <p className="meta">
            seed {c.seed} · {/* Keyed: each new version is a new element, so the stylesheet flashes it again. */}
            <span key={c.anchorVersion} className={c.anchorVersion === openedAt ? 'anchor-version' : 'anchor-version changed'} title="Goes up whenever the identity changes: its banks are built again">
              anchor v{c.anchorVersion}
            </span>
          </p>
          <div className="actions">
            <button type="button" className="edit" onClick={() => setEditing(true)}>Edit</button>
            <DeleteCharacter character={c} />
          </div>
        </>
      )}
      <ReferenceImages character={c} />
    </li>
  );
}

function NewCharacter() {
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [{ fetching, error }, create] = useMutation(CreateCharacterDocument);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const result = await create({ input: { name: name.trim(), description: description.trim() } });
    // The characters list refreshes itself: the result names a Character, which urql's cache watches.
    if (!result.error) {
      setName('');
      setDescription('');
    }
  };

  return (
    <form className="card new-character" onSubmit={submit}>
      <h2>New character</h2>
      <label>
        Name
        <input name="name" required value={name} onChange={(e) => setName(e.target.value)} />
      </label>
      <label>
        Description <span className="hint">who this is, reused in every frame they appear in</span>
        <textarea name="description" rows={2} required value={description} onChange={(e) => setDescription(e.target.value)} />
      </label>
      <button type="submit" className="primary" disabled={fetching}>Create character</button>
      <ErrorView error={error} />
    </form>
  );
}
