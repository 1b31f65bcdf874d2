import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export type JobStatus = 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';
export const JOB_STATUSES: readonly JobStatus[] = ['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'];

/**
 * Our own durable record of a generation request. The queue (pg-boss) only carries the job id;
 * progress, errors and results live here so they survive the queue's retention.
 */
@Entity('generation_jobs')
export class GenerationJob {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid') projectId: string;
  /** e.g. 'story', 'frame', 'anchor': defined by the job system. */
  @Column('varchar', { length: 50 }) kind: string;
  @Column('varchar', { length: 20 }) status: JobStatus;
  @Column('uuid', { nullable: true }) storyId: string | null;
  @Column('uuid', { nullable: true }) frameId: string | null;
  @Column('uuid', { nullable: true }) characterId: string | null;
  /** What was asked, as validated by the service. */
  @Column('jsonb') request: Record<string, unknown>;
  @Column('jsonb', { nullable: true }) result: Record<string, unknown> | null;
  @Column('int') progressStep: number;
  @Column('int') progressTotal: number;
  @Column('int') framesDone: number;
  @Column('int') framesTotal: number;
  /** The running attempt's phase; a finished or queued job reads as such from its status. */
  @Column('varchar', { length: 10 }) progressPhase: 'QUEUED' | 'IDENTITY' | 'FRAMES';
  /** The whole job's share done: only ever raised (GREATEST), so it never goes back. */
  @Column('real') progressFraction: number;
  @Column('int') banksDone: number;
  @Column('int') banksTotal: number;
  /** Frames of the current render run (they are drawn together, up to four). */
  @Column('int') framesRunning: number;
  @Column('int') attempts: number;
  @Column('varchar', { length: 50, nullable: true }) errorCode: string | null;
  @Column('text', { nullable: true }) errorMessage: string | null;
  @Column('uuid', { nullable: true }) createdByKeyId: string | null;
  /** Unique per project: a retried request with the same key gets the same job. */
  @Column('varchar', { length: 200, nullable: true }) idempotencyKey: string | null;
  /** With a key: the operation, its arguments as the client gave them, and the API key that sent it. */
  @Column('jsonb', { nullable: true }) idempotencyRequest: Record<string, unknown> | null;
  /** The queue's own id for this job, for cancelling. */
  @Column('uuid', { nullable: true }) queueJobId: string | null;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt: Date;
  @Column('timestamptz', { nullable: true }) startedAt: Date | null;
  @Column('timestamptz', { nullable: true }) finishedAt: Date | null;
  @UpdateDateColumn({ type: 'timestamptz' }) updatedAt: Date;
}
