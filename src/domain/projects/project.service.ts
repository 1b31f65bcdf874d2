import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { Project } from '../../db/entities/project.entity';
import { withTenant } from '../../db/tenant-session';
import type { CreatedKey } from '../api-keys/api-key.service';
import { ApiKeyService } from '../api-keys/api-key.service';
import { LIMITS, requiredText } from '../common/validation';

export interface CreatedProject extends CreatedKey {
  project: Project;
}

export class ProjectService {
  constructor(private readonly dataSource: DataSource, private readonly keys: ApiKeyService) {}

  /**
   * Platform operation. The id is chosen here so the project and its first admin key are written
   * in one transaction already scoped (RLS) to the new project.
   */
  async create(input: { name: string }): Promise<CreatedProject> {
    const name = requiredText('name', input.name, LIMITS.titleLength);
    const id = randomUUID();
    return withTenant(this.dataSource, id, async (session) => {
      const project = await session.one(Project, `INSERT INTO projects (id, name) VALUES ($1, $2) RETURNING *`, [id, name]);
      const key = await this.keys.create(session, null, { name: 'admin', role: 'admin' });
      return { project: project!, ...key };
    });
  }

  /** Platform lookup (login role, no tenant): used by the CLI to find the demo project. */
  async findByName(name: string): Promise<Project | undefined> {
    return (await this.dataSource.getRepository(Project).findOne({ where: { name }, order: { createdAt: 'ASC' } })) ?? undefined;
  }

  /** A new admin key for an existing project (CLI, e.g. the demo after a restart). */
  async issueAdminKey(projectId: string, name: string): Promise<CreatedKey> {
    return withTenant(this.dataSource, projectId, (session) => this.keys.create(session, null, { name, role: 'admin' }));
  }
}
