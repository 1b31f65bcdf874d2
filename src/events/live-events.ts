import type { ClientConfig } from 'pg';
import type { DataSource } from 'typeorm';
import type { Logger } from '../util/logger';
import { ChangeFeed } from './change-feed';
import { EventHub, TopicKind } from './event-hub';
import { PgEventListener } from './pg-listener';

/** The listening connection's settings: the pool's server and credentials, its own name. */
export function listenerConnection(dataSource: DataSource): ClientConfig {
  const o = dataSource.options as { url?: string; host?: string; port?: number; username?: string; password?: string; database?: string };
  const base: ClientConfig = o.url
    ? { connectionString: o.url }
    : { host: o.host, port: o.port, user: o.username, password: o.password, database: o.database };
  return { ...base, application_name: 'storyforge-events', keepAlive: true };
}

/**
 * Live updates of one process: a LISTEN connection feeding an in-memory hub that subscriptions
 * watch. Events come from any process sharing the database, so an API process hears what a
 * worker process did.
 */
export class LiveEvents {
  readonly hub = new EventHub();
  readonly listener: PgEventListener;
  private readonly wakeChannels = new Map<string, () => void>();

  constructor(connection: ClientConfig, log: Logger, options: { heartbeatMs?: number; retryMs?: { min: number; max: number } } = {}) {
    this.listener = new PgEventListener({
      connection, log, ...options, wakeChannels: this.wakeChannels,
      onEvent: (event) => this.hub.dispatch(event),
      onListening: () => this.hub.resync(),
    });
  }

  /**
   * Calls `wake` on every NOTIFY on `channel`, and after every (re)connection (NOTIFYs sent while
   * it was down are lost). The same connection listens; call before start().
   */
  onChannel(channel: string, wake: () => void): void {
    this.wakeChannels.set(channel, wake);
  }

  start(): Promise<void> {
    return this.listener.start();
  }

  stop(): Promise<void> {
    return this.listener.stop();
  }

  /** Ticks once now (the current state) and once per batch of changes to `kind:id` of the project. */
  feed(kind: TopicKind, id: string, projectId: string): ChangeFeed {
    return new ChangeFeed((changed) => this.hub.watch(kind, id, projectId, changed), { initial: true });
  }
}
