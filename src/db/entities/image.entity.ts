import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** A stored picture (upload or render variant), addressed by the hash of its bytes. */
@Entity('images')
export class Image {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid') projectId: string;
  @Column('char', { length: 64 }) contentHash: string;
  @Column('varchar', { length: 50 }) mime: string;
  @Column('int') width: number;
  @Column('int') height: number;
  @Column('int') byteSize: number;
  /** Where the image store keeps the bytes (a path or an object key). */
  @Column('varchar', { length: 500 }) storageKey: string;
  /** When stored, or last stored again (upsertImageRow): an image nothing uses expires counted from it. */
  @CreateDateColumn({ type: 'timestamptz' }) createdAt: Date;
}
