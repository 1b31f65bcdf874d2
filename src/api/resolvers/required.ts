import { notFound } from '../../domain/common/errors';

/**
 * The row a non-null field points at. Foreign keys keep it there; were it missing anyway, the
 * answer names what is missing (NOT_FOUND) instead of a null the schema forbids.
 */
export async function required<T>(value: Promise<T | undefined>, what: string): Promise<T> {
  const found = await value;
  if (!found) throw notFound(what, what);
  return found;
}
