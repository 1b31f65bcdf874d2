import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** One picture of a reference set, in order; the crop box (upload pixels) is all four or none. */
@Entity('reference_images')
export class ReferenceImage {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid') projectId: string;
  @Column('uuid') setId: string;
  @Column('uuid') imageId: string;
  @Column('int') position: number;
  @Column('int', { nullable: true }) cropX: number | null;
  @Column('int', { nullable: true }) cropY: number | null;
  @Column('int', { nullable: true }) cropWidth: number | null;
  @Column('int', { nullable: true }) cropHeight: number | null;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt: Date;
}
