import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Project keys start `sfk_`, platform keys `sfp_`: recognisable in leaks, and redacted from logs. */
export function generateSecret(kind: 'project' | 'platform'): string {
  return (kind === 'project' ? 'sfk_' : 'sfp_') + randomBytes(32).toString('base64url');
}

/** Secrets are 256 random bits, so a plain SHA-256 is enough (no slow hash needed against guessing). */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function secretPrefix(secret: string): string {
  return secret.slice(0, 12);
}

export function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(Buffer.from(hashSecret(a), 'hex'), Buffer.from(hashSecret(b), 'hex'));
}
