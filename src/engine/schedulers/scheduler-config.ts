/**
 * A scheduler's configuration, as the pack manifest records it (diffusers' scheduler_config
 * keys, snake_case). Every field is read explicitly: a missing one is an error, and no value
 * is replaced by a default with `||` (0 and false are meaningful here).
 */
export type BetaSchedule = 'linear' | 'scaled_linear';
export type PredictionType = 'epsilon' | 'v_prediction';
export type TimestepSpacing = 'linspace' | 'leading' | 'trailing';

export interface SchedulerConfig {
  numTrainTimesteps: number;
  betaStart: number;
  betaEnd: number;
  betaSchedule: BetaSchedule;
  predictionType: PredictionType;
  timestepSpacing: TimestepSpacing;
  stepsOffset: number;
  setAlphaToOne: boolean;
  clipSample: boolean;
  clipSampleRange: number;
}

export class SchedulerConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SchedulerConfigError';
  }
}

function pick<T extends string>(raw: Record<string, unknown>, key: string, allowed: readonly T[]): T {
  const v = raw[key];
  if (typeof v !== 'string' || !allowed.includes(v as T)) {
    throw new SchedulerConfigError(`scheduler.${key} must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
  }
  return v as T;
}

function num(raw: Record<string, unknown>, key: string, check: (v: number) => boolean, what: string): number {
  const v = raw[key];
  if (typeof v !== 'number' || !Number.isFinite(v) || !check(v)) {
    throw new SchedulerConfigError(`scheduler.${key} must be ${what}, got ${JSON.stringify(v)}`);
  }
  return v;
}

function bool(raw: Record<string, unknown>, key: string): boolean {
  const v = raw[key];
  if (typeof v !== 'boolean') throw new SchedulerConfigError(`scheduler.${key} must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

/** Reads the manifest's `scheduler` object. Only `clip_sample_range` is optional (diffusers' 1.0). */
export function parseSchedulerConfig(raw: unknown): SchedulerConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new SchedulerConfigError('scheduler must be an object');
  const r = raw as Record<string, unknown>;
  const config: SchedulerConfig = {
    numTrainTimesteps: num(r, 'num_train_timesteps', (v) => Number.isInteger(v) && v > 1, 'an integer > 1'),
    betaStart: num(r, 'beta_start', (v) => v > 0 && v < 1, 'in (0, 1)'),
    betaEnd: num(r, 'beta_end', (v) => v > 0 && v < 1, 'in (0, 1)'),
    betaSchedule: pick(r, 'beta_schedule', ['linear', 'scaled_linear'] as const),
    predictionType: pick(r, 'prediction_type', ['epsilon', 'v_prediction'] as const),
    timestepSpacing: pick(r, 'timestep_spacing', ['linspace', 'leading', 'trailing'] as const),
    stepsOffset: num(r, 'steps_offset', (v) => Number.isInteger(v) && v >= 0, 'an integer >= 0'),
    setAlphaToOne: bool(r, 'set_alpha_to_one'),
    clipSample: bool(r, 'clip_sample'),
    clipSampleRange: r.clip_sample_range === undefined ? 1.0 : num(r, 'clip_sample_range', (v) => v > 0, 'positive'),
  };
  if (config.betaEnd < config.betaStart) throw new SchedulerConfigError('scheduler.beta_end must not be below beta_start');
  return config;
}
