export { parseJudgeSpec } from './judge-spec';
export type { JudgeSpec } from './judge-spec';
export { adherence, identityAgreement } from './consistency-metrics';
export type { Prediction } from './consistency-metrics';
