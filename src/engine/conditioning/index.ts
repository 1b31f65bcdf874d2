export { zeroEmptyNegatives } from './conditioning';
export type { Conditioning, ImageSize } from './conditioning';
export { PromptEncoder } from './prompt-encoder';
export type { EncodedPrompts, EncoderOutputs } from './prompt-encoder';
export { TextConditioning } from './text-conditioning';
export { TextTimeConditioning, concatChannels } from './text-time-conditioning';
export { timeIds } from './time-ids';
export { openConditioning } from './open-conditioning';
