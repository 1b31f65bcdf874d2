import { Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';

export interface Closed {
  code: number;
  reason: string;
}

export interface WsConnection {
  client: Client;
  /** Resolves when the server acknowledged the connection; rejects with the close event if it refused it. */
  connected: Promise<void>;
  /** The socket's close code and reason, once closed. */
  closed: Promise<Closed>;
  dispose(): Promise<void>;
}

/** A real graphql-ws client over a real WebSocket, with no retries (tests see every close). */
export function connectWs(httpUrl: string, connectionParams: Record<string, unknown> | undefined): WsConnection {
  let onClosed!: (closed: Closed) => void;
  const closed = new Promise<Closed>((resolve) => { onClosed = resolve; });
  let onConnected!: () => void;
  let onRefused!: (error: unknown) => void;
  const connected = new Promise<void>((resolve, reject) => { onConnected = resolve; onRefused = reject; });
  connected.catch(() => undefined);
  const client = createClient({
    url: httpUrl.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams,
    lazy: false,
    retryAttempts: 0,
    onNonLazyError: () => undefined,
    on: {
      connected: () => onConnected(),
      closed: (event) => {
        const e = event as { code: number; reason: string | Buffer };
        const result = { code: e.code, reason: String(e.reason) };
        onClosed(result);
        onRefused(result);
      },
    },
  });
  return { client, connected, closed, dispose: () => Promise.resolve(client.dispose()) };
}

export interface Message<T = any> {
  data?: T;
  errors?: { message: string; extensions?: { code?: string; field?: string } }[];
}

/**
 * One subscription's messages, in order. `next()` waits for the next one; `done` resolves when the
 * server completed the subscription (or rejects with its error).
 */
export class Subscription<T = any> {
  readonly messages: Message<T>[] = [];
  readonly done: Promise<void>;
  private readonly waiters: ((message: Message<T>) => void)[] = [];
  private taken = 0;
  private unsubscribe: () => void;
  completed = false;

  constructor(client: Client, query: string, variables: Record<string, unknown> = {}) {
    let resolveDone!: () => void;
    let rejectDone!: (error: unknown) => void;
    this.done = new Promise((resolve, reject) => { resolveDone = resolve; rejectDone = reject; });
    this.done.catch(() => undefined);
    this.unsubscribe = client.subscribe<T>({ query, variables }, {
      next: (message) => {
        this.messages.push(message as Message<T>);
        this.waiters.shift()?.(message as Message<T>);
      },
      error: (error) => rejectDone(error),
      complete: () => {
        this.completed = true;
        resolveDone();
      },
    });
  }

  /** The next message not yet taken (waits for it). */
  next(): Promise<Message<T>> {
    const index = this.taken++;
    if (index < this.messages.length) return Promise.resolve(this.messages[index]);
    return new Promise((resolve) => {
      this.waiters.push(resolve);
    });
  }

  /** Waits until a message satisfies `predicate`, taking every message up to it. */
  async until(predicate: (message: Message<T>) => boolean): Promise<Message<T>> {
    for (;;) {
      const message = await this.next();
      if (predicate(message)) return message;
    }
  }

  stop(): void {
    this.unsubscribe();
  }
}
