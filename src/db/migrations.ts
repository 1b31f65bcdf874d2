import { InitialSchema1764400000000 } from '../../migrations/1764400000000-initial-schema';
import { GenerationJobs1764500000000 } from '../../migrations/1764500000000-generation-jobs';
import { Webhooks1764600000000 } from '../../migrations/1764600000000-webhooks';
import { IdempotencyRequest1764700000000 } from '../../migrations/1764700000000-idempotency-request';
import { ImageFileDeletions1764800000000 } from '../../migrations/1764800000000-image-file-deletions';
import { CharacterPackRate1764900000000 } from '../../migrations/1764900000000-character-pack-rate';
import { StoryModels1765000000000 } from '../../migrations/1765000000000-story-models';
import { RenderVariations1765100000000 } from '../../migrations/1765100000000-render-variations';
import { StylesNegativePrompts1765200000000 } from '../../migrations/1765200000000-styles-negative-prompts';
import { ReferenceCrops1765300000000 } from '../../migrations/1765300000000-reference-crops';
import { StoryPages1765400000000 } from '../../migrations/1765400000000-story-pages';
import { JobProgressPhase1765500000000 } from '../../migrations/1765500000000-job-progress-phase';

/** Listed explicitly so the same list works from TypeScript (tests) and from dist/ (built). */
export const MIGRATIONS = [InitialSchema1764400000000, GenerationJobs1764500000000, Webhooks1764600000000, IdempotencyRequest1764700000000,
  ImageFileDeletions1764800000000, CharacterPackRate1764900000000, StoryModels1765000000000,
  RenderVariations1765100000000, StylesNegativePrompts1765200000000,
  ReferenceCrops1765300000000, StoryPages1765400000000,
  JobProgressPhase1765500000000];
