/**
 * One urql client per login: HTTP for queries and mutations with the key in the Authorization
 * header (src/api/auth-header.ts: `Bearer <key>`), graphql-ws on the same origin's /graphql for
 * subscriptions with the key in the connection parameters (the server checks it on connect).
 */
import { createClient as createWsClient } from 'graphql-ws';
import { createContext, useContext } from 'react';
import { Client, cacheExchange, fetchExchange, subscriptionExchange } from 'urql';

export interface Session {
  key: string;
  client: Client;
  /** Closes the socket; the client is not used afterwards. */
  dispose(): void;
}

export function openSession(key: string): Session {
  const { protocol, host } = window.location;
  const ws = createWsClient({
    url: `${protocol === 'https:' ? 'wss' : 'ws'}://${host}/graphql`,
    connectionParams: { authorization: `Bearer ${key}` },
    // Opened with the first subscription, closed a moment after the last one ends.
    lazy: true,
    retryAttempts: 5,
  });
  const client = new Client({
    url: new URL('/graphql', window.location.href).href,
    // GET would need Apollo's CSRF preflight header; POST with JSON is what the API expects.
    preferGetMethod: false,
    fetchOptions: () => ({ headers: { authorization: `Bearer ${key}` } }),
    exchanges: [
      cacheExchange,
      fetchExchange,
      subscriptionExchange({
        forwardSubscription: (request) => ({
          subscribe: (sink) => ({ unsubscribe: ws.subscribe({ ...request, query: request.query ?? '' }, sink) }),
        }),
      }),
    ],
  });
  return { key, client, dispose: () => void ws.dispose() };
}

/**
 * The logged-in key, for the one request urql does not make: POST /uploads (raw picture bytes,
 * not GraphQL). From the session rather than storage, which can be refused (session.ts).
 */
export const ApiKeyContext = createContext('');

export function useApiKey(): string {
  return useContext(ApiKeyContext);
}
