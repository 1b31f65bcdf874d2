import type { IncomingMessage, Server } from 'node:http';
import { CloseCode, ServerOptions, handleProtocols, makeServer } from 'graphql-ws';
import { WebSocket, WebSocketServer } from 'ws';
import type { Logger } from '../util/logger';
import { MessageOrder } from './ws-message-order';

/** What each graphql-ws context carries besides the protocol's state. */
export interface WsExtra {
  readonly socket: WebSocket;
  /** The upgrade request: the client's address and headers. */
  readonly request: IncomingMessage;
}

export interface WsTransportSettings {
  path: string;
  /**
   * Largest message taken, in bytes. `ws` counts a message's frames as they arrive and closes the
   * socket with 1009 past this, so an oversized message is never buffered whole (its default is
   * 100 MiB).
   */
  maxMessageBytes: number;
  /** Pings this often; a socket that has not answered the previous ping is cut (its client vanished). */
  keepAliveMs: number;
  log: Logger;
}

/**
 * Messages only a server sends. graphql-ws parses them like any other, then throws on them, which
 * read as an internal error (4500, logged as such) although the fault is the client's: 4400, as
 * for any other invalid message.
 */
const SERVER_ONLY_TYPES: ReadonlySet<string> = new Set(['connection_ack', 'next', 'error']);

/**
 * graphql-ws's protocol server on the `ws` sockets of an http.Server: what graphql-ws's own
 * `useServer` does, plus the message size limit and the ordering of a reused operation id (see
 * MessageOrder), and with a client's faults (a message over the limit, a broken frame) logged as
 * what they are, at info, rather than printed to stderr as internal errors.
 */
export function serveGraphqlWs(httpServer: Server, options: ServerOptions<Record<string, unknown> | undefined, WsExtra>,
  settings: WsTransportSettings): { dispose(): Promise<void> } {
  const { log } = settings;
  const wss = new WebSocketServer({ server: httpServer, path: settings.path, maxPayload: settings.maxMessageBytes, handleProtocols });
  // The http.Server's own errors are re-emitted here; its owner already handles them.
  wss.on('error', (error) => log.warn('websocket server error', { error }));
  const protocol = makeServer(options);

  wss.on('connection', (socket, request) => {
    // `ws` emits these after closing the socket itself with the fitting code (1009, 1002, 1007).
    socket.on('error', (error) => log.info('websocket closed on a client error', { error }));
    let answered = true;
    socket.on('pong', () => { answered = true; });
    const keepAlive = setInterval(() => {
      if (!answered) {
        socket.terminate();
        return;
      }
      answered = false;
      socket.ping();
    }, settings.keepAliveMs);
    keepAlive.unref();

    const closed = protocol.opened({
      protocol: socket.protocol,
      send: (data) => new Promise<void>((resolve, reject) => {
        if (socket.readyState !== WebSocket.OPEN) return resolve();
        socket.send(data, (error) => (error ? reject(error) : resolve()));
      }),
      close: (code, reason) => socket.close(code, reason),
      onMessage: (handle) => {
        const order = new MessageOrder(async (text, type) => {
          if (type !== undefined && SERVER_ONLY_TYPES.has(type)) {
            log.info('websocket closed on a client error', { error: `the client sent a ${type} message` });
            socket.close(CloseCode.BadRequest, `Unexpected message of type ${type} received`);
            return;
          }
          try {
            await handle(text);
          } catch (error) {
            log.error('websocket message failed', { error });
            socket.close(CloseCode.InternalServerError, 'Internal server error');
          }
        });
        socket.on('message', (data) => order.receive(String(data)));
      },
    }, { socket, request });

    socket.once('close', (code, reason) => {
      clearInterval(keepAlive);
      closed(code, reason.toString()).catch((error) => log.error('websocket clean-up failed', { error }));
    });
  });

  return {
    dispose: async () => {
      for (const client of wss.clients) client.close(1001, 'Going away');
      await new Promise<void>((resolve, reject) => wss.close((error) => (error ? reject(error) : resolve())));
    },
  };
}
