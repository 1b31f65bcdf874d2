import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A reference image may name the part of the upload that shows the character (a crop box in
 * the upload's pixels); without one the picture is centre-cropped to the model's aspect. The
 * box is all four numbers or none.
 */
export class ReferenceCrops1765300000000 implements MigrationInterface {
  name = 'ReferenceCrops1765300000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE reference_images
      ADD COLUMN crop_x int, ADD COLUMN crop_y int, ADD COLUMN crop_width int, ADD COLUMN crop_height int,
      ADD CONSTRAINT reference_images_crop_check CHECK (
        (crop_x IS NULL AND crop_y IS NULL AND crop_width IS NULL AND crop_height IS NULL)
        OR (crop_x >= 0 AND crop_y >= 0 AND crop_width > 0 AND crop_height > 0))`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE reference_images DROP CONSTRAINT reference_images_crop_check,
      DROP COLUMN crop_x, DROP COLUMN crop_y, DROP COLUMN crop_width, DROP COLUMN crop_height`);
  }
}
