import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

export type Role = 'admin' | 'editor' | 'viewer';
export const ROLES: readonly Role[] = ['admin', 'editor', 'viewer'];

/** Only the SHA-256 of the secret is kept; the secret itself is shown once, at creation. */
@Entity('api_keys')
export class ApiKey {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid') projectId: string;
  @Column('varchar', { length: 100 }) name: string;
  @Column('varchar', { length: 10 }) role: Role;
  /** The first characters of the secret, so people can tell keys apart. */
  @Column('varchar', { length: 16 }) prefix: string;
  @Column('char', { length: 64, select: false }) keyHash: string;
  @Column('uuid', { nullable: true }) createdByKeyId: string | null;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt: Date;
  @Column('timestamptz', { nullable: true }) lastUsedAt: Date | null;
  @Column('timestamptz', { nullable: true }) revokedAt: Date | null;
}
