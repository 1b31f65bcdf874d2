import { getPriority, setPriority } from 'node:os';
import type { Logger } from './logger';

/**
 * Sets this thread's nice value (threads it starts afterwards inherit it). Only ever lowers the
 * priority: a nice value below the current one would need privileges, and is not what is meant.
 */
export function lowerPriority(nice: number, log: Logger): void {
  if (!Number.isInteger(nice) || nice < 0 || nice > 19) throw new RangeError(`STORYFORGE_WORKER_NICE must be 0 to 19, got ${nice}`);
  const current = getPriority(0);
  if (nice === 0 || nice <= current) return;
  try {
    setPriority(0, nice);
    log.info('scheduling priority lowered', { nice });
  } catch (error) {
    log.warn('could not lower the scheduling priority', { nice, error });
  }
}
