/**
 * What a job was asked to do, frozen when it was queued (generation_jobs.request): the worker
 * renders exactly this, whatever happens to the story, its frames or its characters meanwhile,
 * and a retry renders the same pictures.
 */
import type { SchedulerName } from '../../engine/schedulers';
import type { PromptWarning } from '../prompts/prompt-warnings';

export type JobKind = 'anchor' | 'story' | 'frame';

export interface EngineSettings {
  scheduler: SchedulerName;
  steps: number;
  guidance: number;
  /** The size the engine draws (before any display upscale); absent in jobs queued before sizes existed. */
  width?: number;
  height?: number;
}

export interface FrameJob {
  frameId: string;
  position: number;
  /** The full prompt the text encoder gets (characters' descriptions + the frame's prompt + the style, within budget). */
  prompt: string;
  /** What the prompt lost on the way (absent in jobs queued before warnings existed). */
  promptWarnings?: PromptWarning[];
  negativePrompt: string;
  /** The style preset's name ('' for none; absent in jobs queued before styles were presets). */
  style?: string;
  seed: number;
  /** Which of the job's variations of the frame this is (0 when the job asked for one). */
  variation?: number;
  /** In cast order; empty for a frame without characters. */
  characterIds: string[];
}

export interface AnchorRef {
  anchorId: string;
  characterId: string;
  version: number;
}

export interface RenderJobRequest {
  kind: 'story' | 'frame';
  pack: string;
  settings: EngineSettings;
  /** Whole-number display upscale of the pictures (native-only packs); absent: the pack's own. */
  upscale?: number;
  storyId: string;
  frames: FrameJob[];
  anchors: AnchorRef[];
}

export interface AnchorJobRequest {
  kind: 'anchor';
  pack: string;
  settings: EngineSettings;
  anchor: AnchorRef;
}

export type JobRequest = RenderJobRequest | AnchorJobRequest;

/** Stable error codes of failed jobs (generation_jobs.error_code). */
export enum JobErrorCode {
  /** Every try failed; the message is the last error. */
  GENERATION_FAILED = 'GENERATION_FAILED',
  /** The attempt ran past its time (or its process died) on the last try. */
  TIMED_OUT = 'TIMED_OUT',
  /** The worker thread died (out of memory, a native crash) on the last try. */
  WORKER_CRASHED = 'WORKER_CRASHED',
  /** What the job refers to is gone (the story, frame or character was deleted). */
  GONE = 'GONE',
  /** No live worker served the job's model pack for the configured time. */
  NO_WORKER = 'NO_WORKER',
}
