/** Errors as the API words them: each GraphQL error's message with its `extensions.code` (and field). */
import type { CombinedError } from 'urql';

interface Shown {
  code: string;
  message: string;
  field?: string;
}

function shown(error: CombinedError): Shown[] {
  if (error.graphQLErrors.length > 0) {
    return error.graphQLErrors.map((e) => ({
      code: typeof e.extensions?.code === 'string' ? e.extensions.code : 'ERROR',
      message: e.message,
      ...(typeof e.extensions?.field === 'string' ? { field: e.extensions.field } : {}),
    }));
  }
  // A refused socket arrives as its close event: the reason is the server's message.
  const network = error.networkError as { message?: unknown; reason?: unknown } | undefined;
  const message = typeof network?.reason === 'string' && network.reason !== '' ? network.reason
    : typeof network?.message === 'string' ? network.message : error.message;
  return [{ code: 'NETWORK_ERROR', message }];
}

export function ErrorView({ error }: { error: CombinedError | null | undefined }) {
  if (!error) return null;
  return (
    <div className="error" role="alert">
      {shown(error).map((e, i) => (
        <p key={i}>
          <code className="error-code">{e.code}</code> <span className="error-message">{e.message}</span>
          {e.field && <span className="error-field"> ({e.field})</span>}
        </p>
      ))}
    </div>
  );
}

/** The first line number an error message names ("line 3: ..."), as the script parser words them. */
export function errorLine(error: CombinedError | null | undefined): number | null {
  const match = error?.graphQLErrors.map((e) => /^line (\d+):/.exec(e.message)).find((m) => m !== null);
  return match ? Number(match[1]) : null;
}

/** The input fields the API's errors name (`extensions.field`), for the form to mark. */
export function errorFields(error: CombinedError | null | undefined): Set<string> {
  return new Set((error?.graphQLErrors ?? []).map((e) => e.extensions?.field).filter((f): f is string => typeof f === 'string'));
}
