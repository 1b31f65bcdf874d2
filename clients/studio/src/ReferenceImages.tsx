/**
 * A character's reference pictures: thumbnails in the order the identity reads them, each with
 * a remove button, and a file picker. Each chosen file goes to POST /uploads, then all of them
 * to addReferenceImages at once, in the order chosen. If any file is refused, none is added: the
 * set would otherwise be one the user did not pick, and its anchor version would move for it.
 * (Uploading the accepted files again later costs nothing: the API keeps one copy per picture.)
 */
import { useState } from 'react';
import type { ChangeEvent } from 'react';
import { CombinedError, useMutation } from 'urql';
import { useApiKey } from './client';
import { ErrorView } from './ErrorView';
import { AddReferenceImagesDocument, RemoveReferenceImageDocument } from './generated/graphql';
import type { CharacterCardFragment } from './generated/graphql';
import { type UploadError, uploadPicture } from './uploads';

/** What the route reads (src/images/uploads.ts); the picker offers these, the route still checks the bytes. */
const PICTURES = 'image/png,image/jpeg,image/webp';

export function ReferenceImages({ character }: { character: CharacterCardFragment }) {
  const key = useApiKey();
  const [adding, add] = useMutation(AddReferenceImagesDocument);
  const [removing, remove] = useMutation(RemoveReferenceImageDocument);
  // The last step's refusal (an upload, the add or a remove): the next step clears it.
  const [error, setError] = useState<CombinedError | null>(null);
  const [uploading, setUploading] = useState<string | null>(null);
  const busy = uploading !== null || adding.fetching;

  const choose = async (event: ChangeEvent<HTMLInputElement>) => {
    const input = event.currentTarget;
    const files = [...(input.files ?? [])];
    if (files.length === 0) return;
    setError(null);
    const ids: string[] = [];
    const errors: UploadError[] = [];
    for (const [i, file] of files.entries()) {
      setUploading(`Uploading ${i + 1} of ${files.length}…`);
      const uploaded = await uploadPicture(key, file);
      if ('id' in uploaded) ids.push(uploaded.id);
      else errors.push(...uploaded.errors);
    }
    setUploading(null);
    // Emptied, so choosing the same file again is a change too.
    input.value = '';
    if (errors.length > 0) {
      setError(new CombinedError({ graphQLErrors: errors }));
      return;
    }
    const result = await add({ characterId: character.id, images: ids.map((uploadId) => ({ uploadId })) });
    setError(result.error ?? null);
  };

  const drop = async (referenceImageId: string) => {
    setError(null);
    const result = await remove({ characterId: character.id, referenceImageId });
    setError(result.error ?? null);
  };

  const images = character.referenceImages;
  return (
    <div className="reference-images">
      <h3>Reference pictures <span className="hint">{images.length === 0 ? 'none: the identity is generated from the description' : `${images.length}, in order`}</span></h3>
      {images.length > 0 && (
        <ol className="references">
          {/* Numbered by place in the list: a removal keeps the others' positions, gaps and all. */}
          {images.map((r, i) => (
            <li key={r.id} data-reference-id={r.id}>
              <img src={r.url} alt={`${character.name}, reference ${i + 1}`} />
              <button type="button" className="link danger remove-reference" disabled={removing.fetching}
                aria-label={`Remove reference ${i + 1}`} onClick={() => drop(r.id)}>Remove</button>
            </li>
          ))}
        </ol>
      )}
      <label className="reference-upload">
        {uploading ?? (adding.fetching ? 'Adding…' : 'Add pictures')} <span className="hint">PNG, JPEG or WebP</span>
        <input type="file" name="referencePictures" accept={PICTURES} multiple disabled={busy} onChange={choose} />
      </label>
      <ErrorView error={error} />
    </div>
  );
}
