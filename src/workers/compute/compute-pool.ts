/**
 * The main thread's side of the compute threads: a fixed number of threads, one request each at
 * a time, queued requests served in order. A thread that dies (a native crash, out of memory)
 * fails the request it held with ThreadCrashed (the job is retried) and is replaced.
 */
import { extname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ExecutionProvider } from '../../engine/runtime/runtime-config';
import type { Logger } from '../../util/logger';
import type { ComputeReply, ComputeRequest, ComputeThreadData } from './protocol';

type Done = Exclude<ComputeReply, { type: 'progress' } | { type: 'error' }>;
type Progress = Extract<ComputeReply, { type: 'progress' }>;
type Request = DistributiveOmit<ComputeRequest, 'id'>;
type DistributiveOmit<T, K extends keyof never> = T extends unknown ? Omit<T, K> : never;

export class ThreadCrashed extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ThreadCrashed';
  }
}

export class ComputeCancelled extends Error {
  constructor() {
    super('cancelled');
    this.name = 'ComputeCancelled';
  }
}

interface Task {
  id: number;
  request: ComputeRequest;
  onProgress: (p: Progress) => void;
  resolve: (reply: Done) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: Worker;
  cancel: Int32Array;
  task: Task | undefined;
  /** Called when the running task has answered (close() waits for it). */
  idle?: () => void;
}

export interface ComputePoolOptions {
  size: number;
  ortThreads: number;
  /** ONNX Runtime execution providers of the threads' sessions, in order; `['cpu']` when omitted. */
  executionProviders?: ExecutionProvider[];
  /** The GPU the `cuda` provider uses; 0 when omitted. */
  cudaDeviceId?: number;
  /**
   * The module a thread runs, compute-thread by default. Tests wrap it to make a thread die
   * between two steps: terminate() from outside, mid-run, would abort the whole process.
   */
  threadModule?: string;
}

export class ComputePool {
  private readonly slots: Slot[] = [];
  private readonly waiting: Task[] = [];
  private nextId = 1;
  private closed = false;

  constructor(private readonly options: ComputePoolOptions, private readonly log: Logger) {
    if (!Number.isInteger(options.size) || options.size < 1) throw new RangeError('a compute pool needs at least one thread');
    for (let i = 0; i < options.size; i++) this.slots.push(this.spawn());
  }

  get size(): number {
    return this.slots.length;
  }

  /** Runs a request on the next free thread; `signal` stops it at its next denoising step. */
  run(request: Request, onProgress: (p: Progress) => void = () => undefined, signal?: AbortSignal): Promise<Done> {
    if (this.closed) return Promise.reject(new Error('the compute pool is closed'));
    if (signal?.aborted) return Promise.reject(new ComputeCancelled());
    return new Promise<Done>((resolve, reject) => {
      const id = this.nextId++;
      const task: Task = { id, request: { ...request, id } as ComputeRequest, onProgress, resolve, reject };
      signal?.addEventListener('abort', () => this.cancel(task), { once: true });
      this.waiting.push(task);
      this.dispatch();
    });
  }

  /**
   * Ends every thread; requests still waiting fail at once, running ones are stopped at their
   * next step first: terminating a thread while ONNX Runtime runs in it aborts the process.
   */
  async close(graceMs = 30_000): Promise<void> {
    this.closed = true;
    for (const task of this.waiting.splice(0)) task.reject(new Error('the compute pool is closed'));
    await Promise.all(this.slots.map(async (slot) => {
      const task = slot.task;
      if (task) {
        Atomics.store(slot.cancel, 0, task.id);
        await new Promise<void>((resolve) => {
          slot.idle = resolve;
          setTimeout(resolve, graceMs).unref();
        });
        if (slot.task === task) task.reject(new Error('the compute pool is closed'));
        slot.task = undefined;
      }
      await slot.worker.terminate();
    }));
  }

  private cancel(task: Task): void {
    const queued = this.waiting.indexOf(task);
    if (queued >= 0) {
      this.waiting.splice(queued, 1);
      task.reject(new ComputeCancelled());
      return;
    }
    const slot = this.slots.find((s) => s.task === task);
    if (slot) Atomics.store(slot.cancel, 0, task.id);
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (slot.task || this.waiting.length === 0) continue;
      const task = this.waiting.shift()!;
      slot.task = task;
      // Banks are copied, not transferred: the caller's caches keep theirs.
      slot.worker.postMessage(task.request);
    }
  }

  private spawn(): Slot {
    const cancel = new SharedArrayBuffer(4);
    const data: ComputeThreadData = {
      cancel,
      ortThreads: this.options.ortThreads,
      executionProviders: [...(this.options.executionProviders ?? ['cpu'])],
      cudaDeviceId: this.options.cudaDeviceId ?? 0,
    };
    const worker = threadWorker(data, this.options.threadModule);
    const slot: Slot = { worker, cancel: new Int32Array(cancel), task: undefined };
    worker.on('message', (reply: ComputeReply) => {
      const task = slot.task;
      if (!task || reply.id !== task.id) return;
      if (reply.type === 'progress') {
        task.onProgress(reply);
        return;
      }
      slot.task = undefined;
      if (reply.type === 'error') task.reject(reply.cancelled ? new ComputeCancelled() : new Error(reply.message));
      else task.resolve(reply);
      slot.idle?.();
      if (!this.closed) this.dispatch();
    });
    worker.on('error', (error) => this.log.error('compute thread failed', { error }));
    worker.on('exit', (code) => {
      if (this.closed) return;
      this.log.warn('compute thread exited; replacing it', { code });
      slot.task?.reject(new ThreadCrashed(`the compute thread exited (code ${code}) while working`));
      const index = this.slots.indexOf(slot);
      if (index >= 0) this.slots[index] = this.spawn();
      this.dispatch();
    });
    return slot;
  }
}

/**
 * Modules each compute thread loads before its entry. A thread inherits the loaders its process
 * was started with (`node -r …`), but not one a test runner installed in-process: such a runner
 * (jest, running the TypeScript sources) names its loader here. Built JavaScript needs none.
 */
const threadPreloads: string[] = [];

export function preloadInComputeThreads(module: string): void {
  if (!threadPreloads.includes(module)) threadPreloads.push(module);
}

function threadWorker(workerData: ComputeThreadData, module?: string): Worker {
  // The entry in the same form as this file: compute-thread.js when built, .ts when run from the sources.
  const entry = module ?? join(__dirname, `compute-thread${extname(__filename)}`);
  const execArgv = threadPreloads.length > 0 ? [...process.execArgv, ...threadPreloads.flatMap((m) => ['-r', m])] : undefined;
  return new Worker(entry, { workerData, ...(execArgv ? { execArgv } : {}) });
}
