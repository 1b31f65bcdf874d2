/** Scheduler factory: the pack's `defaults.scheduler` (or a request) names one of these. */
import { DdimScheduler } from './ddim';
import { DpmSolverPP2MScheduler } from './dpm-solver-pp-2m';
import { EulerAncestralScheduler } from './euler-ancestral';
import type { Scheduler, SchedulerName } from './scheduler';
import type { SchedulerConfig } from './scheduler-config';

export const SCHEDULER_NAMES: readonly SchedulerName[] = ['ddim', 'euler_ancestral', 'dpmpp_2m'];

export function isSchedulerName(name: unknown): name is SchedulerName {
  return typeof name === 'string' && (SCHEDULER_NAMES as readonly string[]).includes(name);
}

export function createScheduler(name: string, config: SchedulerConfig): Scheduler {
  switch (name) {
    case 'ddim':
      return new DdimScheduler(config);
    case 'euler_ancestral':
      return new EulerAncestralScheduler(config);
    case 'dpmpp_2m':
      return new DpmSolverPP2MScheduler(config);
    default:
      throw new RangeError(`unknown scheduler "${name}"; known: ${SCHEDULER_NAMES.join(', ')}`);
  }
}

export { DdimScheduler, EulerAncestralScheduler, DpmSolverPP2MScheduler };
export { parseSchedulerConfig, SchedulerConfigError } from './scheduler-config';
export type { SchedulerConfig, BetaSchedule, PredictionType, TimestepSpacing } from './scheduler-config';
export type { Scheduler, SchedulerName } from './scheduler';
