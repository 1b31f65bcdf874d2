import PgBoss from 'pg-boss';

/** pg-boss's tables live in their own schema, apart from ours. */
export const QUEUE_SCHEMA = 'pgboss';

/**
 * pg-boss's construction plan for its schema, without its own BEGIN/COMMIT: the migration that
 * runs it already holds a transaction (and the migration advisory lock). The plan keeps its
 * advisory lock, which is transaction-scoped.
 */
export function queueSchemaPlan(): string {
  const plan = PgBoss.getConstructionPlans(QUEUE_SCHEMA).trim();
  if (!plan.startsWith('BEGIN;') || !plan.endsWith('COMMIT;')) throw new Error('pg-boss construction plan has an unexpected shape');
  return plan.slice('BEGIN;'.length, -'COMMIT;'.length);
}
