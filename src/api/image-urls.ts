/**
 * URLs of stored files for the API's answers: signed URLs of the API's own routes (/images,
 * /pages), or, with STORYFORGE_S3_PRESIGN=1, presigned URLs of the bucket itself, so the bytes
 * never pass through an API process. Either way they expire after the URL lifetime.
 */
import type { RequestContext } from './context';
import { absolute } from './public-origin';

export async function imageUrl(ctx: RequestContext, projectId: string, imageId: string): Promise<string> {
  const { signer, imageStore } = ctx.services;
  if (imageStore.presignedUrl) {
    const image = await ctx.loaders.image.load(imageId);
    if (image) return imageStore.presignedUrl(image.storageKey, signer.ttlSeconds);
  }
  return absolute(signer.sign(projectId, imageId), ctx.publicOrigin);
}

/** A comic page or download (a story_pages row: its id and where its file is). */
export async function pageUrl(ctx: RequestContext, page: { projectId: string; id: string; storageKey: string }): Promise<string> {
  const { signer, imageStore } = ctx.services;
  if (imageStore.presignedUrl) return imageStore.presignedUrl(page.storageKey, signer.ttlSeconds);
  return absolute(signer.sign(page.projectId, page.id, undefined, 'pages'), ctx.publicOrigin);
}
