import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

export type WebhookEvent = 'job.succeeded' | 'job.failed' | 'job.cancelled' | 'story.updated';
export const WEBHOOK_EVENTS: readonly WebhookEvent[] = ['job.succeeded', 'job.failed', 'job.cancelled', 'story.updated'];

/** A project's webhook. The signing secret is stored sealed (AES-256-GCM under the server's webhook key). */
@Entity('webhooks')
export class Webhook {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid') projectId: string;
  @Column('varchar', { length: 2000 }) url: string;
  @Column('varchar', { array: true }) events: WebhookEvent[];
  @Column('bytea', { select: false }) secretSealed: Buffer;
  /** Which server key sealed the secret: a changed key is reported as such, not as a bad signature. */
  @Column('char', { length: 16, select: false }) secretKeyId: string;
  /** The first characters of the secret, to tell secrets apart. */
  @Column('varchar', { length: 16 }) secretPrefix: string;
  @Column('uuid', { nullable: true }) createdByKeyId: string | null;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt: Date;
}
