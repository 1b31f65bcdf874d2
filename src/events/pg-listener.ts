import { Client, ClientConfig } from 'pg';
import type { Logger } from '../util/logger';
import { parseEvent } from './parse-event';
import { EVENTS_CHANNEL, StoryForgeEvent } from './publisher';

export interface PgListenerOptions {
  /** A connection of its own (not from the pool): it stays in LISTEN for the life of the process. */
  connection: ClientConfig;
  onEvent(event: StoryForgeEvent): void;
  /** Other channels to LISTEN on: a NOTIFY there (its payload ignored) calls the function. */
  wakeChannels?: ReadonlyMap<string, () => void>;
  /** After every (re)connection: events sent while it was down were missed. */
  onListening(): void;
  log: Logger;
  /** A `SELECT 1` this often notices a silently dead connection. */
  heartbeatMs?: number;
  /** Reconnect delays double from `min` up to `max`. */
  retryMs?: { min: number; max: number };
}

/**
 * The process's one LISTEN on `storyforge_events`. NOTIFYs from every process sharing the
 * database (API servers, workers) arrive here and are handed to `onEvent`. A dropped connection is
 * replaced with exponential backoff, and `onListening` fires again so subscribers re-read what
 * they follow instead of waiting for an event that was sent while nobody listened.
 */
export class PgEventListener {
  private client: Client | undefined;
  private stopped = false;
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private waiters: (() => void)[] = [];
  /** Successful LISTENs so far: 1 after start, +1 per reconnection. */
  connections = 0;

  constructor(private readonly options: PgListenerOptions) {}

  /** Connects once; on failure keeps retrying in the background (start does not fail the server). */
  async start(): Promise<void> {
    try {
      await this.connect();
    } catch (error) {
      this.options.log.warn('events listener could not connect; retrying', { error });
      this.scheduleReconnect();
    }
    const every = this.options.heartbeatMs ?? 30_000;
    this.heartbeat = setInterval(() => {
      const client = this.client;
      client?.query('SELECT 1').catch((error) => this.dropped(client, error));
    }, every);
    this.heartbeat.unref();
  }

  get listening(): boolean {
    return this.client !== undefined;
  }

  /** Resolves once the connection after `connections` is listening (tests, readiness). */
  waitForConnection(after: number): Promise<void> {
    if (this.connections > after && this.listening) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => (this.connections > after && this.listening ? resolve() : this.waiters.push(check));
      this.waiters.push(check);
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.heartbeat);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new Client({ ...this.options.connection, query_timeout: 10_000 });
    client.on('error', (error) => this.dropped(client, error));
    client.on('end', () => this.dropped(client));
    client.on('notification', (message) => {
      if (message.channel !== EVENTS_CHANNEL) {
        this.options.wakeChannels?.get(message.channel)?.();
        return;
      }
      const event = parseEvent(message.payload);
      if (event) this.options.onEvent(event);
      else this.options.log.warn('ignored a malformed event', { channel: message.channel });
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${EVENTS_CHANNEL}`);
      for (const channel of this.options.wakeChannels?.keys() ?? []) await client.query(`LISTEN ${client.escapeIdentifier(channel)}`);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.attempt = 0;
    this.connections += 1;
    if (this.connections > 1) this.options.log.info('events listener reconnected', { connections: this.connections });
    this.options.onListening();
    for (const wake of this.options.wakeChannels?.values() ?? []) wake();
    const waiters = this.waiters;
    this.waiters = [];
    waiters.forEach((check) => check());
  }

  private dropped(client: Client, error?: Error): void {
    if (client !== this.client) return; // an old or never-established connection
    this.client = undefined;
    client.end().catch(() => undefined);
    if (this.stopped) return;
    this.options.log.warn('events listener connection lost; reconnecting', { error: error ?? 'connection ended' });
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    const { min, max } = this.options.retryMs ?? { min: 100, max: 5_000 };
    const delay = Math.min(max, min * 2 ** this.attempt);
    this.attempt += 1;
    this.retryTimer = setTimeout(() => {
      this.connect().catch((error) => {
        this.options.log.warn('events listener could not reconnect; retrying', { error, delayMs: delay });
        this.scheduleReconnect();
      });
    }, delay);
    this.retryTimer.unref();
  }
}
