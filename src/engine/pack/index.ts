export { PackError } from './pack-errors';
export { PACK_FORMAT, parseManifest, imageSize } from './manifest';
export type { PackManifest, PackFiles } from './manifest';
export { loadPack } from './load-pack';
export type { ModelPack, LoadPackOptions } from './load-pack';
export { checkPackSessions } from './check-sessions';
export type { PackSessions, SessionShape } from './check-sessions';
export { openPack } from './open-pack';
export type { OpenedPack, OpenPackOptions } from './open-pack';
