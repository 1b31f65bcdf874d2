import type { TenantSession } from '../../db/tenant-session';
import { ApiKey, ROLES, Role } from '../../db/entities/api-key.entity';
import { apiKeyRevoked } from '../../events/publisher';
import type { Actor } from '../common/actor';
import { notFound } from '../common/errors';
import { pageByCreation } from '../common/creation-page';
import type { Page, PageArgs } from '../common/pagination';
import { LIMITS, oneOf, requiredText } from '../common/validation';
import { generateSecret, hashSecret, secretPrefix } from './key-secret';

export interface CreatedKey {
  apiKey: ApiKey;
  /** Shown once; only its hash is stored. */
  secret: string;
}

/** Every column but the hash, which never leaves the database once written. */
export const API_KEY_COLUMNS = 'id, project_id, name, role, prefix, created_by_key_id, created_at, last_used_at, revoked_at';

export class ApiKeyService {
  async create(session: TenantSession, createdBy: Actor | null, input: { name: string; role: string }): Promise<CreatedKey> {
    const name = requiredText('name', input.name, LIMITS.nameLength);
    const role = oneOf<Role>('role', input.role, ROLES);
    const secret = generateSecret('project');
    const apiKey = await session.atomically(() => session.one(ApiKey,
      `INSERT INTO api_keys (project_id, name, role, prefix, key_hash, created_by_key_id)
       VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${API_KEY_COLUMNS}`,
      [session.projectId, name, role, secretPrefix(secret), hashSecret(secret), createdBy?.keyId ?? null]));
    return { apiKey: apiKey!, secret };
  }

  /**
   * Idempotent: revoking a revoked key returns it unchanged. Announced on commit, so every API
   * process closes the key's open sockets at once.
   */
  async revoke(session: TenantSession, id: string): Promise<ApiKey> {
    return session.atomically(async () => {
      const apiKey = await session.one(ApiKey,
        `UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1 RETURNING ${API_KEY_COLUMNS}`, [id]);
      if (!apiKey) throw notFound('id', 'API key');
      await apiKeyRevoked(session, apiKey.id);
      return apiKey;
    });
  }

  async list(session: TenantSession, args: PageArgs): Promise<Page<ApiKey>> {
    return pageByCreation(session, ApiKey, { table: 'api_keys', columns: API_KEY_COLUMNS }, args);
  }

}
