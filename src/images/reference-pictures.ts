/**
 * A stored reference image as the engine reads it: the character's part of the picture (the
 * crop box, or the centre at the model's aspect), resized to the model's size, as [3, H, W]
 * float32 in [-1, 1] (RGB planes), the range the engine's pictures have.
 */
import sharp from 'sharp';

export interface CropBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Why a crop box cannot be used on a picture of this size, or null when it fits. */
export function cropProblem(crop: CropBox, width: number, height: number, minSide = 8): string | null {
  const whole = [crop.x, crop.y, crop.width, crop.height].every(Number.isInteger);
  if (!whole || crop.x < 0 || crop.y < 0) return 'the crop box takes whole, non-negative pixel numbers';
  if (crop.width < minSide || crop.height < minSide) return `the crop box must be at least ${minSide}x${minSide} pixels`;
  if (crop.x + crop.width > width || crop.y + crop.height > height) {
    return `the crop box (${crop.x},${crop.y} ${crop.width}x${crop.height}) reaches outside the ${width}x${height} picture`;
  }
  return null;
}

export async function referencePicture(bytes: Uint8Array, crop: CropBox | null, width: number, height: number): Promise<Float32Array> {
  let image = sharp(bytes).removeAlpha();
  if (crop) image = image.extract({ left: crop.x, top: crop.y, width: crop.width, height: crop.height });
  // cover: the box (or the whole picture) fills the frame, its centre kept when the aspects differ.
  const { data, info } = await image.resize(width, height, { fit: 'cover', position: 'centre' }).toColourspace('srgb').raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`expected an RGB picture, got ${info.channels} channels`);
  const plane = width * height;
  const out = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) out[c * plane + i] = data[i * 3 + c]! / 127.5 - 1;
  }
  return out;
}
