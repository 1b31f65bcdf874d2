import type { DataSource, EntityTarget, ObjectLiteral, QueryRunner } from 'typeorm';
import { APP_ROLE, TENANT_SETTING } from './app-role';
import { fromRows } from './rows';

/**
 * One project's database work for one request (or one job step): a single transaction, opened on
 * first use, in which the project id is set transaction-locally and the role is switched to the
 * non-superuser APP_ROLE, so row-level security filters every statement even if a query forgets
 * its `project_id` filter. Mutations run inside savepoints, so a failed one leaves nothing behind
 * while the request's other work stands.
 */
export class TenantSession {
  private runner: Promise<QueryRunner> | undefined;
  private savepoints = 0;
  /** atomically() blocks now running: their transaction must stay whole. */
  private depth = 0;
  private finished = false;
  /** Statements go to the connection one at a time, in call order (DataLoaders fire in parallel). */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly dataSource: DataSource, readonly projectId: string) {}

  async query<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    // Structured: TypeORM otherwise returns [rows, count] for UPDATE/DELETE ... RETURNING.
    return this.serial(async () => ((await (await this.open()).query(sql, params, true)).records ?? []) as T[]);
  }

  /** Runs SQL and maps the rows onto `target` entities. */
  async rows<T extends ObjectLiteral>(target: EntityTarget<T>, sql: string, params: unknown[] = []): Promise<T[]> {
    return fromRows(this.dataSource, target, await this.query(sql, params));
  }

  map<T extends ObjectLiteral>(target: EntityTarget<T>, rows: Record<string, unknown>[]): T[] {
    return fromRows(this.dataSource, target, rows);
  }

  async one<T extends ObjectLiteral>(target: EntityTarget<T>, sql: string, params: unknown[] = []): Promise<T | undefined> {
    return (await this.rows(target, sql, params))[0];
  }

  /** Runs `work` atomically: all of its writes, or none of them. */
  async atomically<T>(work: () => Promise<T>): Promise<T> {
    const name = `sp_${++this.savepoints}`;
    this.depth++;
    try {
      await this.query(`SAVEPOINT ${name}`);
      try {
        const result = await work();
        await this.query(`RELEASE SAVEPOINT ${name}`);
        return result;
      } catch (error) {
        await this.query(`ROLLBACK TO SAVEPOINT ${name}`);
        throw error;
      }
    } finally {
      this.depth--;
    }
  }

  /**
   * Runs `work`, which uses no database, with the connection back in the pool: what the session
   * did so far is committed, and its next statement opens a new transaction (tenant and role set
   * again). Seconds of CPU or storage work (drawing comic pages, storing their files) then hold no
   * connection idle in a transaction while other requests wait for the pool. Inside atomically()
   * the transaction stays whole, so the connection is kept.
   */
  async withoutConnection<T>(work: () => Promise<T>): Promise<T> {
    if (this.depth === 0) {
      // In the statement queue: statements queued before it run in the committed transaction,
      // those after it (another resolver's) in the next.
      await this.serial(async () => {
        const opened = this.runner;
        if (!opened || this.finished) return;
        this.runner = undefined;
        const runner = await opened;
        try {
          if (runner.isTransactionActive) await runner.commitTransaction();
        } finally {
          await runner.release();
        }
      });
    }
    return work();
  }

  get isOpen(): boolean {
    return this.runner !== undefined && !this.finished;
  }

  /** Commits (or rolls back) and returns the connection to the pool. Safe to call twice. */
  async finish(commit: boolean): Promise<void> {
    // Queued: statements issued before it still run in this transaction.
    await this.serial(async () => {
      if (this.finished) return;
      this.finished = true;
      const opened = this.runner;
      if (!opened) return;
      const runner = await opened;
      try {
        if (runner.isTransactionActive) {
          if (commit) await runner.commitTransaction();
          else await runner.rollbackTransaction();
        }
      } finally {
        await runner.release();
      }
    });
  }

  private serial<T>(statement: () => Promise<T>): Promise<T> {
    const result = this.queue.then(statement);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private open(): Promise<QueryRunner> {
    if (this.finished) throw new Error('tenant session already finished');
    this.runner ??= (async () => {
      const runner = this.dataSource.createQueryRunner();
      try {
        await runner.connect();
        await runner.startTransaction();
        // One statement sets both: set_config(..., true) lasts until the end of the transaction.
        await runner.query(`SELECT set_config($1, $2, true), set_config('role', $3, true)`, [
          TENANT_SETTING, this.projectId, APP_ROLE,
        ]);
        return runner;
      } catch (error) {
        await runner.release();
        throw error;
      }
    })();
    return this.runner;
  }
}

/** A whole unit of work in one tenant transaction, for code outside a GraphQL request. */
export async function withTenant<T>(dataSource: DataSource, projectId: string, work: (session: TenantSession) => Promise<T>): Promise<T> {
  const session = new TenantSession(dataSource, projectId);
  try {
    const result = await work(session);
    await session.finish(true);
    return result;
  } catch (error) {
    await session.finish(false);
    throw error;
  }
}
