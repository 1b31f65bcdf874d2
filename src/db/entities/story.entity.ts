import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { SchedulerName } from '../../engine/schedulers';

@Entity('stories')
export class Story {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid') projectId: string;
  @Column('varchar', { length: 200 }) title: string;
  /** The name of a style preset (built in, or the project's); '' for none. */
  @Column('varchar', { length: 200 }) style: string;
  @Column('text') negativePrompt: string;
  @Column('int') width: number;
  @Column('int') height: number;
  @Column('int') steps: number;
  @Column('real') guidance: number;
  @Column('varchar', { length: 20 }) scheduler: SchedulerName;
  /** The model pack every frame renders with. */
  @Column('varchar', { length: 100 }) model: string;
  @Column('int') seed: number;
  /** Kept in step with the frames by the frame service (under the story's row lock). */
  @Column('int') frameCount: number;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updatedAt: Date;
}
