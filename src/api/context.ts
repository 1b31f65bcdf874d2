import type { DataSource } from 'typeorm';
import type { Role } from '../db/entities/api-key.entity';
import { TenantSession } from '../db/tenant-session';
import type { Principal } from '../domain/api-keys/auth.service';
import type { Actor } from '../domain/common/actor';
import { forbidden, unauthenticated } from '../domain/common/errors';
import type { Logger } from '../util/logger';
import { Loaders, createLoaders } from './dataloaders';
import type { Services } from './services';

const RANK: Record<Role, number> = { viewer: 1, editor: 2, admin: 3 };

/**
 * Per-request state. The tenant comes only from the authenticated key; asking for it on a
 * request without one throws. The database session (one transaction, RLS-scoped) and the
 * DataLoaders are created on first use.
 */
export class RequestContext {
  private sessionValue: TenantSession | undefined;
  private loadersValue: Loaders | undefined;
  private finished = false;

  constructor(
    readonly requestId: string,
    readonly principal: Principal | null,
    readonly services: Services,
    readonly log: Logger,
    private readonly dataSource: DataSource,
    /** The Idempotency-Key header: a retried request with the same key gets the same job. */
    readonly idempotencyKey?: string,
    /** Where clients reach the API (public-origin.ts): image and page URLs in answers are absolute under it. */
    readonly publicOrigin?: string,
  ) {}

  get actor(): Actor {
    if (this.principal?.kind !== 'key') throw unauthenticated('a project API key is required');
    return this.principal;
  }

  /** The actor, if its role is at least `role`. Viewers read; editors write; admins manage keys. */
  require(role: Role): Actor {
    const actor = this.actor;
    if (RANK[actor.role] < RANK[role]) throw forbidden(`this needs the ${role} role; the key has ${actor.role}`);
    return actor;
  }

  requirePlatform(): void {
    if (this.principal?.kind !== 'platform') {
      throw this.principal ? forbidden('only the platform key may do this') : unauthenticated('the platform key is required');
    }
  }

  get session(): TenantSession {
    if (this.finished) throw new Error('request context already finished');
    this.sessionValue ??= new TenantSession(this.dataSource, this.actor.projectId);
    return this.sessionValue;
  }

  get loaders(): Loaders {
    this.loadersValue ??= createLoaders(this.session);
    return this.loadersValue;
  }

  /** After a write, cached loads may be stale: later fields of the response load afresh. */
  wrote(): void {
    this.loadersValue = undefined;
  }

  /**
   * Commits the work so far and forgets the session and loaders: the next use opens a fresh
   * transaction that sees the current state. A subscription calls this after each event, so it
   * never holds a connection (or a stale snapshot) while it waits.
   */
  async release(): Promise<void> {
    const session = this.sessionValue;
    this.sessionValue = undefined;
    this.loadersValue = undefined;
    await session?.finish(true);
  }

  /** Ends the request's transaction; a no-op when the request never touched the database. */
  async finish(commit: boolean): Promise<void> {
    this.finished = true;
    await this.sessionValue?.finish(commit);
  }
}
