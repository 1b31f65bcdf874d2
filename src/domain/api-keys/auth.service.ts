import type { DataSource } from 'typeorm';
import type { Role } from '../../db/entities/api-key.entity';
import type { Actor } from '../common/actor';
import { unauthenticated } from '../common/errors';
import { hashSecret, sameSecret } from './key-secret';

export type Principal = ({ kind: 'key' } & Actor) | { kind: 'platform' };

/**
 * Resolves a bearer secret to a project key or the platform key. Runs as the login role, before
 * any tenant is known: finding a key by its hash is the one lookup that must cross projects.
 */
export class AuthService {
  constructor(private readonly dataSource: DataSource, private readonly platformKey: string | undefined) {}

  async authenticate(secret: string): Promise<Principal> {
    if (this.platformKey && secret.startsWith('sfp_') && sameSecret(secret, this.platformKey)) return { kind: 'platform' };
    // last_used_at is refreshed at most every 30 s, so a busy key does not write on every request.
    const rows: { id: string; project_id: string; role: Role }[] = await this.dataSource.query(
      `WITH k AS (
         SELECT id, project_id, role, last_used_at FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL
       ), touched AS (
         UPDATE api_keys SET last_used_at = now() FROM k
         WHERE api_keys.id = k.id AND (k.last_used_at IS NULL OR k.last_used_at < now() - interval '30 seconds')
       )
       SELECT id, project_id, role FROM k`,
      [hashSecret(secret)],
    );
    const key = rows[0];
    if (!key) throw unauthenticated('invalid or revoked API key');
    return { kind: 'key', keyId: key.id, projectId: key.project_id, role: key.role };
  }
}
