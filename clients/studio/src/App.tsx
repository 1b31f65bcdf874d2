/**
 * Logged out: the login form. Logged in: the studio, with one urql client (and socket) for the
 * key; logging out closes it and forgets the key.
 */
import { useState } from 'react';
import { Provider } from 'urql';
import { ApiKeyContext, type Session, openSession } from './client';
import { Login } from './Login';
import { forgetKey, storedKey, storeKey } from './session';
import { Shell } from './Shell';

function restored(): Session | null {
  const key = storedKey();
  return key ? openSession(key) : null;
}

export function App() {
  const [session, setSession] = useState<Session | null>(restored);

  if (!session) {
    return <Login onLogin={(accepted) => { storeKey(accepted.key); setSession(accepted); }} />;
  }
  const logOut = () => {
    session.dispose();
    forgetKey();
    setSession(null);
  };
  return (
    <Provider value={session.client}>
      <ApiKeyContext.Provider value={session.key}>
        <Shell onLogOut={logOut} />
      </ApiKeyContext.Provider>
    </Provider>
  );
}
