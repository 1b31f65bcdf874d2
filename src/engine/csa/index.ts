export { patchCsaModel, csaNames } from './csa-patch';
export type { CsaPatch, CsaLayerPatch, CsaPatchOptions, CsaTensorNames } from './csa-patch';
export { patchCsaFile, defaultPatchedPath } from './csa-file';
export type { CsaFileOptions } from './csa-file';
export { CsaPatchError, DEFAULT_CSA_PREFIXES, findSelfAttentionLayers, selectLayers, scopeToLayerName } from './attention-layers';
export type { SelfAttentionLayer, LayerSelection } from './attention-layers';
export { OnnxGraphView } from './onnx-graph';
export type { TokenCheck } from './token-axis';
export { plainCsaFeeds, plainLayerFeeds } from './csa-feeds';
