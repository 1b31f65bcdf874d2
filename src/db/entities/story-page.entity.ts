import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

export type StoryPageFormat = 'png' | 'webp' | 'pdf' | 'cbz';

/** Where one panel sits on a page (page pixels), and whether its caption had to be set smaller. */
export interface PagePanel {
  frameId: string;
  x: number;
  y: number;
  width: number;
  height: number;
  captionShrunk: boolean;
}

/** One stored file of a story's comic: a page (PNG or WebP) or the whole story (PDF or CBZ). A cache, dropped when the story changes. */
@Entity('story_pages')
export class StoryPage {
  @PrimaryColumn('uuid') id: string;
  @Column('uuid') projectId: string;
  @Column('uuid') storyId: string;
  @Column('char', { length: 64 }) cacheKey: string;
  @Column('varchar', { length: 4 }) format: StoryPageFormat;
  @Column('int') pageIndex: number;
  @Column('varchar', { length: 100 }) mime: string;
  @Column('int', { nullable: true }) width: number | null;
  @Column('int', { nullable: true }) height: number | null;
  @Column('int') byteSize: number;
  @Column('char', { length: 64 }) contentHash: string;
  @Column('varchar', { length: 500 }) storageKey: string;
  @Column('jsonb') panels: PagePanel[];
  @CreateDateColumn({ type: 'timestamptz' }) createdAt: Date;
}
