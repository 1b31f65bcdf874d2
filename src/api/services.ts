import { randomInt } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { ApiKeyService } from '../domain/api-keys/api-key.service';
import { AuthService } from '../domain/api-keys/auth.service';
import { CharacterService } from '../domain/characters/character.service';
import { ReferenceImageService } from '../domain/characters/reference-images';
import { UploadService } from '../domain/uploads/upload.service';
import { ComicPageService } from '../domain/pages/comic-pages';
import { FrameService } from '../domain/frames/frame.service';
import { ProjectService } from '../domain/projects/project.service';
import { StoryService } from '../domain/stories/story.service';
import { MAX_SEED } from '../domain/common/validation';
import { JobService } from '../domain/jobs/job.service';
import { ModelService } from '../domain/models/model.service';
import { PromptPreview } from '../domain/prompts/prompt-preview';
import { StyleService } from '../domain/styles/style.service';
import type { Generation } from '../generation';
import type { LiveEvents } from '../events/live-events';
import type { WebhookService } from '../domain/webhooks/webhook.service';

/** The domain services, built once per process; they hold no request state. */
export function createServices(generation: Generation, dataSource: DataSource, platformKey: string | undefined, live: LiveEvents, webhooks: WebhookService) {
  const apiKeys = new ApiKeyService();
  const styles = new StyleService();
  return {
    auth: new AuthService(dataSource, platformKey),
    projects: new ProjectService(dataSource, apiKeys),
    apiKeys,
    characters: new CharacterService(),
    referenceImages: new ReferenceImageService(),
    uploads: new UploadService(generation.images),
    comics: new ComicPageService(generation.images),
    stories: new StoryService(generation.packs, generation.defaultModel, styles),
    jobs: new JobService(generation.queue, generation.packs, generation.defaultModel, generation.limits, () => randomInt(0, MAX_SEED), styles),
    styles,
    /** Signs image URLs (Render.url). */
    signer: generation.signer,
    /** Where files are (presigned URLs come from it when it makes them). */
    imageStore: generation.images,
    frames: new FrameService(),
    models: new ModelService(generation.packs, generation.defaultModel, generation.heartbeatSeconds),
    prompts: new PromptPreview(generation.packs, styles),
    /** Live updates (subscriptions): this process's LISTEN connection and its fan-out. */
    live,
    webhooks,
  };
}

export type Services = ReturnType<typeof createServices>;
