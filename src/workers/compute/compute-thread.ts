/**
 * A compute thread: opens each model pack once (a StoryEngine, with its ONNX Runtime sessions on
 * the execution providers and CUDA device the pool was configured with) and serves build-bank
 * and render requests one at a time, reporting progress per denoising step. ONNX Runtime's run()
 * keeps this thread busy, which is why it is not the main thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { StoryEngine } from '../../engine/story-engine';
import { IdentityBank } from '../../engine/story/identity-bank';
import type { Float32Tensor } from '../../engine/tensor';
import type { ComputeReply, ComputeRequest, ComputeThreadData, Judgement } from './protocol';

const { cancel, ortThreads, executionProviders, cudaDeviceId } = workerData as ComputeThreadData;
const cancelled = new Int32Array(cancel);
const engines = new Map<string, Promise<StoryEngine>>();

class Cancelled extends Error {}

function engine(packDir: string): Promise<StoryEngine> {
  let opened = engines.get(packDir);
  if (!opened) {
    opened = StoryEngine.open(packDir, { judge: true, runtime: { executionProviders, cudaDeviceId, intraOpThreads: ortThreads, interOpThreads: 1 } });
    opened.catch(() => engines.delete(packDir));
    engines.set(packDir, opened);
  }
  return opened;
}

function send(reply: ComputeReply, transfer: ArrayBuffer[] = []): void {
  parentPort!.postMessage(reply, transfer);
}

async function judge(e: StoryEngine, pixels: Float32Tensor[], wanted: boolean): Promise<Judgement[] | null> {
  if (!wanted || !e.hasJudge) return null;
  const out: Judgement[] = [];
  for (const p of pixels) out.push(...(await e.judge(p)));
  return out;
}

async function serve(request: ComputeRequest): Promise<void> {
  const { id } = request;
  const check = () => {
    if (Atomics.load(cancelled, 0) === id) throw new Cancelled('cancelled');
  };
  const e = await engine(request.packDir);
  if (request.op === 'buildBank') {
    const onStep = (step: number, steps: number) => {
      check();
      send({ id, type: 'progress', step, steps, framesDone: 0, framesTotal: 0 });
    };
    const built = await e.buildBank(request.recipe, request.settings, onStep);
    const bank = built.bank.serialize('float16');
    const per = built.pixels.data.length / built.pixels.dims[0]!;
    const pixels = built.images.map((_, k) => ({ ...built.pixels, dims: [1, ...built.pixels.dims.slice(1)], data: built.pixels.data.subarray(k * per, (k + 1) * per) }));
    const judged = await judge(e, pixels, request.judge);
    send({ id, type: 'bank', bank, anchorHash: built.bank.header.anchor, images: built.images, judged },
      [bank.buffer as ArrayBuffer, ...built.images.map((i) => i.data.buffer as ArrayBuffer)]);
    return;
  }
  if (request.op === 'referenceBank') {
    const built = await e.referenceBank(request.recipe, request.settings, (step, steps) => {
      check();
      send({ id, type: 'progress', step, steps, framesDone: 0, framesTotal: 0 });
    });
    const bank = built.serialize('float16');
    const pictures = request.recipe.pictures;
    const per = pictures.data.length / pictures.dims[0]!;
    const rows = Array.from({ length: pictures.dims[0]! }, (_, k) => ({ ...pictures, dims: [1, ...pictures.dims.slice(1)], data: pictures.data.subarray(k * per, (k + 1) * per) }));
    const judged = await judge(e, rows, request.judge);
    send({ id, type: 'bank', bank, anchorHash: built.header.anchor, images: [], judged }, [bank.buffer as ArrayBuffer]);
    return;
  }
  const banks = request.banks.map((b) => IdentityBank.deserialize(b));
  let framesDone = 0;
  const total = request.frames.length;
  const frames = request.frames.map((f) => ({ prompt: f.prompt, negativePrompt: f.negativePrompt, seed: f.seed, banks: f.banks.map((i) => banks[i]!) }));
  const rendered = await e.render(frames, request.settings, (done) => {
    framesDone = done;
    check();
    send({ id, type: 'progress', step: request.settings.steps, steps: request.settings.steps, framesDone, framesTotal: total });
  }, (step, steps) => {
    check();
    send({ id, type: 'progress', step, steps, framesDone, framesTotal: total });
  });
  const judged = await judge(e, rendered.pixels, request.judge);
  send({ id, type: 'rendered', images: rendered.images, judged }, rendered.images.map((i) => i.data.buffer as ArrayBuffer));
}

// One request at a time, in arrival order: the pool sends a thread one request at a time anyway.
let chain: Promise<void> = Promise.resolve();
parentPort!.on('message', (request: ComputeRequest) => {
  chain = chain.then(() => serve(request).catch((error: unknown) => {
    send({ id: request.id, type: 'error', message: error instanceof Error ? error.message : String(error), cancelled: error instanceof Cancelled });
  }));
});
