/** Scheduler factory: the pack's `defaults.scheduler` (or a request) names one of these. */
import { DdimScheduler } from './ddim';
import { DpmSolverPP2MScheduler } from './dpm-solver-pp-2m';
import { EulerAncestralScheduler } from './euler-ancestral';
import { SCHEDULER_NAMES } from './scheduler';
import type { Scheduler, SchedulerName } from './scheduler';
import type { SchedulerConfig } from './scheduler-config';

export { SCHEDULER_NAMES };

export function isSchedulerName(name: unknown): name is SchedulerName {
  return typeof name === 'string' && (SCHEDULER_NAMES as readonly string[]).includes(name);
}

// A Record, not a switch: a name added to SCHEDULER_NAMES does not compile until it has a sampler.
const SCHEDULERS: Readonly<Record<SchedulerName, new (config: SchedulerConfig) => Scheduler>> = {
  ddim: DdimScheduler,
  euler_ancestral: EulerAncestralScheduler,
  dpmpp_2m: DpmSolverPP2MScheduler,
};

export function createScheduler(name: string, config: SchedulerConfig): Scheduler {
  if (!isSchedulerName(name)) throw new RangeError(`unknown scheduler "${name}"; known: ${SCHEDULER_NAMES.join(', ')}`);
  return new SCHEDULERS[name](config);
}

export { DdimScheduler, EulerAncestralScheduler, DpmSolverPP2MScheduler };
export { parseSchedulerConfig, SchedulerConfigError } from './scheduler-config';
export type { SchedulerConfig, BetaSchedule, PredictionType, TimestepSpacing } from './scheduler-config';
export type { Scheduler, SchedulerName, SchedulerStep } from './scheduler';
