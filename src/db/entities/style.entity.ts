import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** A project's own style preset (the built-in ones live in code: src/domain/styles). */
@Entity('styles')
export class Style {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid') projectId: string;
  @Column('varchar', { length: 100 }) name: string;
  /** Contains `{prompt}`. */
  @Column('text') template: string;
  @Column('text') negativePrompt: string;
  @Column('text', { array: true }) families: string[];
  @CreateDateColumn({ type: 'timestamptz' }) createdAt: Date;
}
