import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { WebhookEvent } from './webhook.entity';

/** One attempt to deliver one event to one webhook: the delivery log. */
@Entity('webhook_deliveries')
export class WebhookDelivery {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid') projectId: string;
  @Column('uuid') webhookId: string;
  @Column('uuid') messageId: string;
  @Column('varchar', { length: 50 }) event: WebhookEvent;
  /** The same for every attempt (and every webhook) of one event; also in the body. */
  @Column('uuid') eventId: string;
  /** 1 for the first try. */
  @Column('int') attempt: number;
  /** Null when no response came (refused address, connection error, timeout). */
  @Column('int', { nullable: true }) httpStatus: number | null;
  @Column('text', { nullable: true }) error: string | null;
  @Column('int') durationMs: number;
  /** When the next try is due; null after a success or the last try. */
  @Column('timestamptz', { nullable: true }) nextRetryAt: Date | null;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt: Date;
}
