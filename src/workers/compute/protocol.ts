/**
 * Messages between the main thread (queue, database, storage) and a compute thread (ONNX
 * Runtime). Compute threads hold no state but their opened engines: banks travel with each
 * request as float16 bytes (the same bytes the caches keep), so any thread can serve any job and
 * a replaced thread loses nothing.
 */
import type { AnchorRecipe, GenerationSettings, ReferenceRecipe } from '../../engine/story-engine';
import type { RgbImage } from '../../engine/pipelines/decode';
import type { ExecutionProvider } from '../../engine/runtime/runtime-config';

export interface BuildBankRequest {
  op: 'buildBank';
  id: number;
  packDir: string;
  recipe: AnchorRecipe;
  settings: GenerationSettings;
  /** Read the identity frames with the pack's judge (when it has one). */
  judge: boolean;
}

/** A bank written from finished pictures (a character's reference images). */
export interface ReferenceBankRequest {
  op: 'referenceBank';
  id: number;
  packDir: string;
  recipe: ReferenceRecipe;
  settings: GenerationSettings;
  /** Read the pictures with the pack's judge (when it has one). */
  judge: boolean;
}

export interface RenderRequest {
  op: 'render';
  id: number;
  packDir: string;
  settings: GenerationSettings;
  /** `banks`: indices into the request's banks. */
  frames: { prompt: string; negativePrompt: string; seed: number; banks: number[] }[];
  /** Serialised identity banks (float16). */
  banks: Uint8Array[];
  judge: boolean;
}

export type ComputeRequest = BuildBankRequest | ReferenceBankRequest | RenderRequest;

/** The judge's reading of one picture: head -> label index. */
export type Judgement = Record<string, number>;

export type ComputeReply =
  | { id: number; type: 'progress'; step: number; steps: number; framesDone: number; framesTotal: number }
  | { id: number; type: 'bank'; bank: Uint8Array; anchorHash: string; images: RgbImage[]; judged: Judgement[] | null }
  | { id: number; type: 'rendered'; images: RgbImage[]; judged: Judgement[] | null }
  | { id: number; type: 'error'; message: string; cancelled: boolean };

export interface ComputeThreadData {
  /** Int32Array over a SharedArrayBuffer: slot 0 holds the id of a request to stop. */
  cancel: SharedArrayBuffer;
  /** ONNX Runtime intra-op threads per session. */
  ortThreads: number;
  /** ONNX Runtime execution providers of every session, in order (STORYFORGE_EXECUTION_PROVIDERS). */
  executionProviders: ExecutionProvider[];
  /** The GPU of the `cuda` provider (STORYFORGE_CUDA_DEVICE). */
  cudaDeviceId: number;
}
