/**
 * Pictures as files: the only module that imports sharp. The engine hands out raw RGB pixels
 * (RgbImage); this turns them into PNG/WebP/thumbnails and contact sheets, and turns uploads
 * into one normal form.
 */
export { NO_UPSCALE, checkRgb, decodeImage, rgbPipeline, toRgbImage } from './raster';
export type { RgbImage, ResizeKernel, Upscale } from './raster';
export { encodePng, encodeRender, encodeThumbnail, encodeWebp, THUMBNAIL_SIZE } from './encode';
export type { EncodedImage, RenderImages, ThumbnailOptions, WebpOptions } from './encode';
export { contactSheet } from './contact-sheet';
export type { ContactSheet, ContactSheetOptions, SheetFrame } from './contact-sheet';
export { canTypeset, wrapCaption } from './captions';
export { DEFAULT_UPLOAD_LIMITS, ImageUploadError, UPLOAD_MIME, normaliseUpload, sha256Hex, sniffImageType } from './uploads';
export type { NormalisedImage, UploadErrorCode, UploadLimits, UploadType } from './uploads';
export { cropProblem, referencePicture } from './reference-pictures';
export type { CropBox } from './reference-pictures';
