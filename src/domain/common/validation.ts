import { badInput } from './errors';

/** Input limits in one place; the schema's CHECK constraints back them up. */
export const LIMITS = {
  nameLength: 100,
  titleLength: 200,
  styleLength: 200,
  modelLength: 100,
  descriptionLength: 2000,
  negativePromptLength: 2000,
  promptLength: 1000,
  captionLength: 500,
  scriptLength: 200 * 1600,
  framesPerStory: 200,
  castSize: 8,
  pageSize: 100,
  /** Renders of one frame in one job (consecutive seeds). */
  variations: 4,
} as const;

export function requiredText(field: string, value: string, max: number): string {
  const text = value.trim();
  if (text.length === 0) throw badInput(field, `${field} must not be empty`);
  return optionalText(field, text, max);
}

export function optionalText(field: string, value: string, max: number): string {
  const text = value.trim();
  if (text.length > max) throw badInput(field, `${field} is longer than ${max} characters`);
  return text;
}

export function intInRange(field: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw badInput(field, `${field} must be an integer from ${min} to ${max}`);
  }
  return value;
}

export function numberInRange(field: string, value: number, min: number, max: number, minExclusive = false): number {
  const tooLow = minExclusive ? value <= min : value < min;
  if (!Number.isFinite(value) || tooLow || value > max) {
    throw badInput(field, `${field} must be ${minExclusive ? 'greater than' : 'at least'} ${min} and at most ${max}`);
  }
  return value;
}

export function oneOf<T extends string>(field: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) throw badInput(field, `${field} must be one of ${allowed.join(', ')}`);
  return value as T;
}

export const MAX_SEED = 2_147_483_647;

export function seed(field: string, value: number): number {
  return intInRange(field, value, 0, MAX_SEED);
}
