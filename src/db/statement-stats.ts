import pg from 'pg';

/**
 * Counts every statement sent to PostgreSQL by the pool's clients. Cheap enough to leave on: the
 * bench reports statements per request from it, and tests use it to prove batching.
 */
export class StatementStats {
  count = 0;
  /** Set by tests to see which statements ran; null keeps nothing. */
  recorded: string[] | null = null;

  note(sql: unknown): void {
    this.count++;
    if (this.recorded) this.recorded.push(typeof sql === 'string' ? sql : String((sql as { text?: string })?.text ?? sql));
  }
}

/** A pg Client class bound to one StatementStats, handed to the pool through TypeORM's `extra`. */
export function countingClient(stats: StatementStats): typeof pg.Client {
  return class CountingClient extends pg.Client {
    // pg's query() has many overloads; counting does not care which one is used.
    override query(...args: any[]): any {
      stats.note(args[0]);
      return (super.query as (...a: any[]) => any)(...args);
    }
  } as typeof pg.Client;
}
