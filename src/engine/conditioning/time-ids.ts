/**
 * SDXL's micro-conditioning (diffusers' _get_add_time_ids): original size, crop top-left and
 * target size, in pixels, height before width, in the order the manifest lists. diffusers'
 * defaults: original = target = the rendered size, crop (0, 0).
 */
import type { AddTimeIdsSpec, TimeIdName } from '../pack';
import type { ImageSize } from './conditioning';

export function timeIds(spec: AddTimeIdsSpec, image: ImageSize): number[] {
  const original = spec.originalSize ?? image;
  const value: Record<TimeIdName, number> = {
    original_height: original.height,
    original_width: original.width,
    crop_top: spec.cropTopLeft.top,
    crop_left: spec.cropTopLeft.left,
    target_height: image.height,
    target_width: image.width,
  };
  return spec.order.map((name) => value[name]);
}
