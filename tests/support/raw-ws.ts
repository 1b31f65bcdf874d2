import WebSocket from 'ws';

export interface RawMessage {
  type: string;
  id?: string;
  payload?: any;
}

/**
 * A bare graphql-transport-ws socket: the test sends the protocol's messages itself and sees every
 * message the server sends, including any for an operation the client already completed (a real
 * client would hide those).
 */
export class RawWs {
  readonly messages: RawMessage[] = [];
  readonly opened: Promise<void>;
  readonly closed: Promise<{ code: number; reason: string }>;
  private readonly socket: WebSocket;
  private waiters: { predicate: (m: RawMessage) => boolean; resolve: (m: RawMessage) => void }[] = [];

  constructor(httpUrl: string, headers: Record<string, string> = {}) {
    this.socket = new WebSocket(httpUrl.replace(/^http/, 'ws'), 'graphql-transport-ws', { headers });
    this.opened = new Promise((resolve, reject) => {
      this.socket.once('open', () => resolve());
      this.socket.once('error', reject);
    });
    this.opened.catch(() => undefined);
    this.closed = new Promise((resolve) => {
      this.socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() }));
    });
    this.socket.on('error', () => undefined);
    this.socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as RawMessage;
      this.messages.push(message);
      for (const waiter of [...this.waiters]) {
        if (waiter.predicate(message)) {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          waiter.resolve(message);
        }
      }
    });
  }

  async send(message: RawMessage | string): Promise<void> {
    await this.opened;
    await new Promise<void>((resolve, reject) => {
      this.socket.send(typeof message === 'string' ? message : JSON.stringify(message), (error) => (error ? reject(error) : resolve()));
    });
  }

  /** The next message (from now on) that satisfies `predicate`. */
  next(predicate: (m: RawMessage) => boolean): Promise<RawMessage> {
    return new Promise((resolve) => this.waiters.push({ predicate, resolve }));
  }

  /** connection_init with these parameters; resolves on connection_ack. */
  async init(payload: Record<string, unknown>): Promise<void> {
    const ack = this.next((m) => m.type === 'connection_ack');
    await this.send({ type: 'connection_init', payload });
    await ack;
  }

  /** Cuts the connection without a close handshake, as a client that lost its network does. */
  terminate(): void {
    this.socket.terminate();
  }

  close(): void {
    this.socket.close();
  }
}
