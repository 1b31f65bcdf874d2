import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

/**
 * A character's anchor is (description, negative prompt, seed, consistency settings, reference set). Any
 * change to those bumps `anchorVersion`; renders record the version they were made with, and
 * the engine's identity bank is kept per (character, anchorVersion, model): a story's model draws it.
 */
@Entity('characters')
export class Character {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid') projectId: string;
  @Column('varchar', { length: 100 }) name: string;
  /** The identity prompt: who this is (hair, clothes, ...), reused in every frame it appears in. */
  @Column('text') description: string;
  @Column('text') negativePrompt: string;
  @Column('int') seed: number;
  /** CSA: how many frames the identity bank is written from. */
  @Column('int') identityFrames: number;
  /** CSA: fraction of the bank's tokens each frame attends to; null: the model pack's default rate. */
  @Column('real', { nullable: true }) samplingRate: number | null;
  @Column('uuid', { nullable: true }) referenceImageSetId: string | null;
  @Column('int') anchorVersion: number;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updatedAt: Date;
}
