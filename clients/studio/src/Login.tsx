/**
 * Paste a key; it is tried with the `viewer` query before it is kept, so a wrong key is refused
 * here with the API's own message and code.
 */
import { useState } from 'react';
import type { FormEvent } from 'react';
import type { CombinedError } from 'urql';
import { type Session, openSession } from './client';
import { ErrorView } from './ErrorView';
import { ViewerDocument } from './generated/graphql';

export function Login({ onLogin }: { onLogin(session: Session): void }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<CombinedError | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const session = openSession(key.trim());
    const result = await session.client.query(ViewerDocument, {}, { requestPolicy: 'network-only' }).toPromise();
    setBusy(false);
    if (result.error || !result.data) {
      session.dispose();
      setError(result.error ?? null);
      return;
    }
    onLogin(session);
  };

  return (
    <main className="login">
      <form className="card login-form" onSubmit={submit}>
        <h1>StoryForge Studio</h1>
        <label>
          API key
          <input name="apiKey" type="password" autoComplete="off" spellCheck={false} required value={key}
            placeholder="sfk_…" onChange={(e) => setKey(e.target.value)} />
        </label>
        <p className="hint">The key stays in this tab's session storage, never in a link.</p>
        <button type="submit" className="primary" disabled={busy || key.trim() === ''}>{busy ? 'Checking…' : 'Log in'}</button>
        <ErrorView error={error} />
      </form>
    </main>
  );
}
