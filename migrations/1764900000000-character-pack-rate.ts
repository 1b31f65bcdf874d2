import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * characters.sampling_rate may be null: the character then uses its model pack's CSA rate
 * (csa.default_rate in the manifest), which is measured per model (1.0 on story-world, where 0.5
 * kept a third fewer attributes), instead of one number in code for every pack. Rows written
 * before keep the rate they hold.
 */
export class CharacterPackRate1764900000000 implements MigrationInterface {
  name = 'CharacterPackRate1764900000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE characters ALTER COLUMN sampling_rate DROP NOT NULL, ALTER COLUMN sampling_rate DROP DEFAULT`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`UPDATE characters SET sampling_rate = 0.5 WHERE sampling_rate IS NULL`);
    await q.query(`ALTER TABLE characters ALTER COLUMN sampling_rate SET DEFAULT 0.5, ALTER COLUMN sampling_rate SET NOT NULL`);
  }
}
