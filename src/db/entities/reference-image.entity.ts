import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

@Entity('reference_images')
export class ReferenceImage {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid') projectId: string;
  @Column('uuid') setId: string;
  @Column('uuid') imageId: string;
  @Column('int') position: number;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt: Date;
}
