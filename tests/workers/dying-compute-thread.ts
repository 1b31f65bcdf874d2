/**
 * The real compute thread, except that a request of DYING_STEPS steps makes the thread exit
 * after reporting its first step, as a native crash would: outside any ONNX Runtime run, which
 * is the one moment a thread can end without taking the process with it.
 */
import { isMainThread, parentPort } from 'node:worker_threads';
import type { ComputeRequest } from '../../src/workers/compute/protocol';

export const DYING_STEPS = 37;

// The test imports DYING_STEPS; only a thread runs the rest.
if (!isMainThread) {
  // Registered before the compute thread's own listener, so a doomed request never reaches it.
  parentPort!.on('message', (request: ComputeRequest) => {
    if (request.settings.steps !== DYING_STEPS) return;
    parentPort!.postMessage({ id: request.id, type: 'progress', step: 1, steps: DYING_STEPS, framesDone: 0, framesTotal: 0 });
    process.exit(70);
  });
  require('../../src/workers/compute/compute-thread');
}
