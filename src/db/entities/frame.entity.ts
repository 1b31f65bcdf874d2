import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

@Entity('frames')
export class Frame {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid') projectId: string;
  @Column('uuid') storyId: string;
  /** 1-based, dense within the story. */
  @Column('int') position: number;
  @Column('text') prompt: string;
  @Column('text') caption: string;
  @Column('text') negativePrompt: string;
  /** `[NC]`: no character appears, so no identity is injected. */
  @Column('boolean') noCharacter: boolean;
  /** Which cast members appear; null means the whole cast. Always a subset of the cast. */
  @Column('uuid', { array: true, nullable: true }) characterIds: string[] | null;
  /** Null: derived from the story seed and the frame position at generation time. */
  @Column('int', { nullable: true }) seed: number | null;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updatedAt: Date;
}
