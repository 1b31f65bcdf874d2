/**
 * POST /uploads (src/api/upload-route.ts): a picture's bytes as the body, the key as a bearer
 * token. The answer is the upload's id, which addReferenceImages takes; a refusal is shaped like
 * GraphQL errors with a stable `extensions.code` (UNSUPPORTED_TYPE, TOO_LARGE, CORRUPT, ...), so
 * ErrorView shows it as it shows the API's other errors.
 */

/** A GraphQL-shaped error, as the route answers them (and as urql's CombinedError takes them). */
export interface UploadError {
  message: string;
  extensions: { code: string } & Record<string, unknown>;
}

export type Uploaded = { id: string } | { errors: UploadError[] };

export async function uploadPicture(key: string, file: File): Promise<Uploaded> {
  // Each error names the file: several are sent at once and the route does not know their names.
  const named = (e: UploadError): UploadError => ({ ...e, message: `${file.name}: ${e.message}` });
  let response: Response;
  try {
    // The file as the body: the route reads the type from the bytes, not from the file's name.
    response = await fetch('/uploads', { method: 'POST', body: file, headers: { authorization: `Bearer ${key}` } });
  } catch (error) {
    return { errors: [named({ message: error instanceof Error ? error.message : String(error), extensions: { code: 'NETWORK_ERROR' } })] };
  }
  const body = await response.json().catch(() => null) as { id?: unknown; errors?: UploadError[] } | null;
  if (response.ok && typeof body?.id === 'string') return { id: body.id };
  if (Array.isArray(body?.errors) && body.errors.length > 0) return { errors: body.errors.map(named) };
  // Not the route's answer (a proxy's error page, a cut connection).
  return { errors: [named({ message: `the upload failed (HTTP ${response.status})`, extensions: { code: 'NETWORK_ERROR' } })] };
}
