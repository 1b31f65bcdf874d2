import { Column, Entity, PrimaryColumn } from 'typeorm';

/** The cast: which characters a story uses, in order. */
@Entity('story_characters')
export class StoryCharacter {
  @PrimaryColumn('uuid') storyId: string;
  @PrimaryColumn('uuid') characterId: string;
  @Column('uuid') projectId: string;
  @Column('int') position: number;
}
