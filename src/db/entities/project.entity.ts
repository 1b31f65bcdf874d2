import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/** The tenant. Its id is chosen by the service so the row can be written under its own RLS scope. */
@Entity('projects')
export class Project {
  @PrimaryColumn('uuid') id: string;
  @Column('varchar', { length: 200 }) name: string;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updatedAt: Date;
}
