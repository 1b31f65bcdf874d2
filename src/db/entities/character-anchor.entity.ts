import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** Everything that rebuilds a character's identity bank exactly (the engine's AnchorRecipe). */
export interface AnchorRecipeJson {
  prompts: string[];
  negativePrompt: string;
  seeds: number[];
  rate: number;
  csaSeed: number;
  /** The pack's guidance for the first identity frame, when it sets one (csa.identity_guidance). */
  identityGuidance?: number;
  /**
   * A character anchored on reference images: its pictures in order (one prompt each; no seeds).
   * The content hash and crop fix the pixels the bank is written from.
   */
  references?: AnchorReference[];
}

export interface AnchorReference {
  imageId: string;
  contentHash: string;
  crop: { x: number; y: number; width: number; height: number } | null;
}

/**
 * A character's anchor at one version, for one model: the recipe of its identity bank. The bank
 * itself is a cache (memory, then disk) rebuilt from this recipe whenever it is missing.
 * `identity`: the judge's reading of the identity frames (head -> label index), once built.
 */
@Entity('character_anchors')
export class CharacterAnchor {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid') projectId: string;
  @Column('uuid') characterId: string;
  @Column('int') version: number;
  @Column('varchar', { length: 100 }) pack: string;
  @Column('char', { length: 64 }) modelHash: string;
  @Column('jsonb') recipe: AnchorRecipeJson;
  @Column('jsonb', { nullable: true }) identity: Record<string, number> | null;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt: Date;
}
