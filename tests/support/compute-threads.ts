/**
 * Jest runs the TypeScript sources in-process through its own transform, which a worker thread
 * does not inherit: compute threads started by a test load the sources through the same SWC hook
 * a child `node -r tests/support/ts-register.cjs` process uses.
 */
import { join } from 'node:path';
import { preloadInComputeThreads } from '../../src/workers/compute/compute-pool';

preloadInComputeThreads(join(__dirname, 'ts-register.cjs'));
