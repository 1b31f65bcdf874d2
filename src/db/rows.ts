import type { DataSource, EntityTarget, ObjectLiteral } from 'typeorm';

/**
 * Maps raw rows (snake_case, as `RETURNING *` or a hand-written SELECT gives them) onto entity
 * objects using TypeORM's column metadata. Services write plain SQL so the statements sent are
 * exactly the ones read in review; the entities stay the single description of each table.
 */
export function fromRows<T extends ObjectLiteral>(dataSource: DataSource, target: EntityTarget<T>, rows: Record<string, unknown>[]): T[] {
  const meta = dataSource.getMetadata(target);
  return rows.map((row) => {
    const entity = meta.create() as Record<string, unknown>;
    for (const column of meta.columns) {
      if (column.databaseName in row) entity[column.propertyName] = row[column.databaseName];
    }
    return entity as T;
  });
}
