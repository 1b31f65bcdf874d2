import type { Role } from '../../db/entities/api-key.entity';

/** Who is acting inside a project: taken from the authenticated key, never from arguments. */
export interface Actor {
  projectId: string;
  keyId: string;
  role: Role;
}
