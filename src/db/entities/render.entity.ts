import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { PromptWarning } from '../../domain/prompts/prompt-warnings';

/** One generated image of a frame, with everything needed to make it again bit for bit. */
@Entity('renders')
export class Render {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid') projectId: string;
  @Column('uuid') frameId: string;
  /** 0, or which of a job's variations of the frame (seed = the first's + variation). */
  @Column('int') variation: number;
  @Column('uuid', { nullable: true }) jobId: string | null;
  /** Full-size PNG. */
  @Column('uuid') imageId: string;
  @Column('uuid', { nullable: true }) webpImageId: string | null;
  @Column('uuid', { nullable: true }) thumbnailImageId: string | null;
  /** The final prompt sent to the text encoder. */
  @Column('text') prompt: string;
  @Column('text') negativePrompt: string;
  /** The style preset the render was drawn in ('' for none). */
  @Column('varchar', { length: 100 }) style: string;
  @Column('int') seed: number;
  @Column('int') steps: number;
  @Column('real') guidance: number;
  @Column('varchar', { length: 20 }) scheduler: string;
  @Column('varchar', { length: 100 }) model: string;
  @Column('int') width: number;
  @Column('int') height: number;
  /** Character id -> anchor version the render was made with (a frame may show several). */
  @Column('jsonb') anchorVersions: Record<string, number>;
  /** Phase durations in milliseconds (e.g. encode, denoise, decode). */
  @Column('jsonb') timings: Record<string, number>;
  @Column('int', { nullable: true }) durationMs: number | null;
  @Column('real', { nullable: true }) consistencyScore: number | null;
  /** What the prompt lost on the way to the text encoder (truncation, unknown words). */
  @Column('jsonb') promptWarnings: PromptWarning[];
  /** At most one current render per frame (partial unique index). */
  @Column('boolean') isCurrent: boolean;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt: Date;
}
