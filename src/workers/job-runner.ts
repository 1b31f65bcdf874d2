/**
 * Runs one queue entry: marks the attempt, hands compute to the thread pool, stores pictures,
 * writes renders and progress, and decides what a failure means (retry, or a final FAILED with a
 * stable code). Only connects queue -> engine -> store; rules about what may be asked live in
 * the job service, which froze everything needed in the job's request.
 */
import type { DataSource } from 'typeorm';
import { CharacterAnchor } from '../db/entities/character-anchor.entity';
import { withTenant } from '../db/tenant-session';
import { AnchorJobRequest, JobErrorCode, JobRequest, RenderJobRequest } from '../domain/jobs/job-request';
import { beginAttempt, recordFailure, reportProgress, succeed } from '../domain/jobs/job-runs';
import { saveRender } from '../domain/renders/render-writer';
import type { QueuedJob, JobMessage } from '../queue/queue';
import type { PackInfo, PackRegistry } from '../packs/pack-registry';
import type { ImageStore } from '../storage/image-store';
import type { Logger } from '../util/logger';
import type { JobOutcome, Metrics, StepOp } from '../metrics/registry';
import { BankCache, bankKey } from './bank-cache';
import { ComputePool, ThreadCrashed } from './compute/compute-pool';
import { consistencyScore, majority } from './identity';
import type { BuildBankRequest, ReferenceBankRequest } from './compute/protocol';
import { referencePicture } from '../images/reference-pictures';
import { float32 } from '../engine/tensor';
import { storeRender } from './render-output';

/** What the job refers to is gone: retrying cannot help. */
class Gone extends Error {}

/** The job was cancelled while it ran. */
class Stopped extends Error {}

export interface JobRunnerDeps {
  dataSource: DataSource;
  pool: ComputePool;
  packs: PackRegistry;
  banks: BankCache;
  images: ImageStore;
  log: Logger;
  /** Attempt and step durations are recorded there. */
  metrics: Metrics;
  /** Frames per compute request: pictures are saved after each. */
  framesPerRequest?: number;
}

interface Bank {
  bytes: Uint8Array;
  identity: Record<string, number> | null;
}

export class JobRunner {
  constructor(private readonly deps: JobRunnerDeps) {}

  async run(entry: QueuedJob, signal: AbortSignal): Promise<void> {
    const { jobId, projectId } = entry.message;
    const { dataSource, log } = this.deps;
    const job = await withTenant(dataSource, projectId, (s) => beginAttempt(s, jobId));
    if (!job) return; // finished, cancelled or deleted meanwhile: nothing to do, the entry completes
    const stop = new AbortController();
    const onAbort = () => stop.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    const progress = new ProgressWriter(dataSource, projectId, jobId, job.attempts, stop, log);
    const request = job.request as unknown as JobRequest;
    const started = performance.now();
    let outcome: JobOutcome = 'failed';
    try {
      const pack = this.deps.packs.get(request.pack);
      if (!pack) throw new Error(`this worker does not hold the ${request.pack} model pack`);
      const result = request.kind === 'anchor'
        ? await this.anchor(projectId, request, pack, progress, stop.signal)
        : await this.renders(projectId, jobId, request, pack, progress, stop.signal);
      await progress.flush();
      await withTenant(dataSource, projectId, (s) => succeed(s, jobId, job.attempts, result));
      outcome = 'succeeded';
    } catch (error) {
      await progress.flush().catch(() => undefined);
      // Cancelled, or a newer attempt runs the job: this attempt just ends. Only our own stop counts
      // here; any other cancellation is a failure like any other (and is retried).
      if (error instanceof Stopped || (stop.signal.aborted && stop.signal.reason instanceof Stopped)) {
        outcome = 'stopped';
        return;
      }
      const final = error instanceof Gone || entry.retryCount >= entry.retryLimit;
      outcome = final ? 'failed' : 'retried';
      const code = error instanceof Gone ? JobErrorCode.GONE : error instanceof ThreadCrashed ? JobErrorCode.WORKER_CRASHED
        : signal.aborted ? JobErrorCode.TIMED_OUT : JobErrorCode.GENERATION_FAILED;
      const message = signal.aborted ? `the attempt ran past ${entry.expireInSeconds} s` : (error as Error).message;
      log.warn('job attempt failed', { jobId, projectId, code, final, attempt: entry.retryCount + 1, error });
      await withTenant(dataSource, projectId, (s) => recordFailure(s, jobId, job.attempts, code, message, final));
      if (error instanceof Gone) return; // FAILED for good; the queue entry completes
      // The queue keeps only the message (its output); details are in the log above.
      throw new Error(`${code}: ${message}`); // the queue retries it, or dead-letters it after the last try
    } finally {
      signal.removeEventListener('abort', onAbort);
      this.deps.metrics.jobAttempt(job.kind, request.pack, outcome, (performance.now() - started) / 1000);
    }
  }

  /** A dead-lettered entry: the job ran out of tries (its last worker may have died). */
  async deadLetter(message: JobMessage, reason: string): Promise<void> {
    const ours = /^([A-Z_]+): ([\s\S]*)$/.exec(reason);
    const known = ours && (Object.values(JobErrorCode) as string[]).includes(ours[1]!) ? (ours[1] as JobErrorCode) : undefined;
    const code = known ?? (/timeout|expired/i.test(reason) ? JobErrorCode.TIMED_OUT : JobErrorCode.GENERATION_FAILED);
    await withTenant(this.deps.dataSource, message.projectId, (s) => recordFailure(s, message.jobId, null, code, known ? ours![2]! : reason, true));
  }

  private async anchor(projectId: string, request: AnchorJobRequest, pack: PackInfo, progress: ProgressWriter, signal: AbortSignal) {
    const anchor = await this.loadAnchors(projectId, [request.anchor.anchorId]);
    progress.plan([bankUnits(anchor[0]!)], 0);
    progress.bankStarted(0);
    const bank = await this.bank(projectId, anchor[0]!, request, pack, progress, signal, true);
    return { anchorVersion: request.anchor.version, characterId: request.anchor.characterId, bankBytes: bank.bytes.byteLength, identity: bank.identity };
  }

  private async renders(projectId: string, jobId: string, request: RenderJobRequest, pack: PackInfo, progress: ProgressWriter, signal: AbortSignal) {
    const { dataSource, pool, images } = this.deps;
    const saved = await withTenant(dataSource, projectId, (s) =>
      s.query<{ frame_id: string; variation: number; id: string }>(`SELECT frame_id, variation, id FROM renders WHERE job_id = $1`, [jobId]));
    // A frame may be asked for in several variations: each is its own render.
    const keyOf = (f: { frameId: string; variation?: number }) => `${f.frameId}:${f.variation ?? 0}`;
    const renderIds = new Map(saved.map((r) => [keyOf({ frameId: r.frame_id, variation: r.variation }), r.id]));
    const remaining = request.frames.filter((f) => !renderIds.has(keyOf(f)));
    const anchors = await this.loadAnchors(projectId, request.anchors.map((a) => a.anchorId));
    const byCharacter = new Map<string, { anchor: CharacterAnchor; bank: Bank; index: number }>();
    const banks: Uint8Array[] = [];
    const needed = anchors.filter((a) => remaining.some((f) => f.characterIds.includes(a.characterId)));
    let framesDone = renderIds.size;
    progress.plan(needed.map(bankUnits), request.frames.length, framesDone);
    for (const [i, anchor] of needed.entries()) {
      progress.bankStarted(i);
      const bank = await this.bank(projectId, anchor, request, pack, progress, signal, false);
      byCharacter.set(anchor.characterId, { anchor, bank, index: banks.length });
      banks.push(bank.bytes);
    }
    const per = this.deps.framesPerRequest ?? 4;
    for (let at = 0; at < remaining.length; at += per) {
      const chunk = remaining.slice(at, at + per);
      progress.rendering(framesDone, chunk.length, request.settings.steps);
      const started = performance.now();
      const reply = await pool.run({
        op: 'render', packDir: pack.dir, settings: request.settings, banks, judge: pack.hasJudge,
        frames: chunk.map((f) => ({ prompt: f.prompt, negativePrompt: f.negativePrompt, seed: f.seed, banks: f.characterIds.map((c) => byCharacter.get(c)!.index) })),
      }, this.timedSteps(pack, 'render', progress), signal);
      if (reply.type !== 'rendered') throw new Error(`compute thread answered ${reply.type} to a render`);
      const computeMs = (performance.now() - started) / chunk.length;
      for (const [k, frame] of chunk.entries()) {
        const stored = await storeRender(images, projectId, reply.images[k]!, { ...pack.manifest.upscale, factor: request.upscale ?? pack.manifest.upscale.factor });
        const cast = frame.characterIds.map((c) => byCharacter.get(c)!);
        const id = await withTenant(dataSource, projectId, (s) => saveRender(s, {
          jobId, frameId: frame.frameId, png: stored.png, webp: stored.webp, thumbnail: stored.thumbnail,
          prompt: frame.prompt, negativePrompt: frame.negativePrompt, seed: frame.seed, steps: request.settings.steps,
          guidance: request.settings.guidance, scheduler: request.settings.scheduler, model: pack.name,
          width: stored.png.width, height: stored.png.height,
          anchorVersions: Object.fromEntries(cast.map((c) => [c.anchor.characterId, c.anchor.version])),
          timings: { computeMs: round(computeMs), encodeMs: round(stored.encodeMs), storeMs: round(stored.storeMs) },
          durationMs: computeMs + stored.encodeMs + stored.storeMs,
          consistencyScore: consistencyScore(reply.judged?.[k], cast.map((c) => c.bank.identity), pack.identityHeads),
          promptWarnings: frame.promptWarnings ?? [],
          variation: frame.variation ?? 0,
          style: frame.style ?? '',
        }));
        if (id) renderIds.set(keyOf(frame), id);
        progress.frames(++framesDone);
      }
      await progress.flush();
    }
    if (renderIds.size === 0) throw new Gone('every frame of the job was deleted');
    const promptWarnings = request.frames.filter((f) => !f.variation)
      .flatMap((f) => (f.promptWarnings ?? []).map((w) => ({ ...w, frameId: f.frameId, position: f.position })));
    return { renderIds: request.frames.filter((f) => renderIds.has(keyOf(f))).map((f) => renderIds.get(keyOf(f))!), promptWarnings };
  }

  private async loadAnchors(projectId: string, ids: string[]): Promise<CharacterAnchor[]> {
    if (ids.length === 0) return [];
    const rows = await withTenant(this.deps.dataSource, projectId, (s) =>
      s.rows(CharacterAnchor, `SELECT * FROM character_anchors WHERE id = ANY($1::uuid[])`, [ids]));
    if (rows.length !== new Set(ids).size) throw new Gone('a character of the job was deleted');
    return ids.map((id) => rows.find((r) => r.id === id)!);
  }

  /** The anchor's bank for these settings: cached, or built (and its identity frames judged). */
  private async bank(projectId: string, anchor: CharacterAnchor, request: JobRequest, pack: PackInfo,
    progress: ProgressWriter, signal: AbortSignal, rebuildIdentity: boolean): Promise<Bank> {
    if (anchor.modelHash !== pack.modelHash) throw new Gone(`anchor ${anchor.id} was made for another version of ${pack.name}`);
    const built: { judged: Record<string, number> | null } = { judged: null };
    // A bank build is shared by every job that needs the bank at the same time (BankCache), so it
    // is not stopped with one of them: an expired or cancelled job's build still serves the others.
    const bytes = await this.deps.banks.get(bankKey(pack.modelHash, anchor.recipe, request.settings), async () => {
      const reply = await this.deps.pool.run(await this.bankRequest(projectId, anchor, request, pack, pack.hasJudge), this.timedSteps(pack, 'bank', progress));
      if (reply.type !== 'bank') throw new Error(`compute thread answered ${reply.type} to a bank build`);
      if (reply.judged) built.judged = majority(reply.judged, pack.identityHeads);
      return reply.bank;
    });
    let identity = anchor.identity;
    if (built.judged && (identity === null || rebuildIdentity)) identity = built.judged;
    if (identity === null && pack.hasJudge) {
      // The bank came from a cache but the identity reading was never stored: read it once.
      const reply = await this.deps.pool.run(await this.bankRequest(projectId, anchor, request, pack, true), this.timedSteps(pack, 'bank', progress), signal);
      if (reply.type === 'bank' && reply.judged) identity = majority(reply.judged, pack.identityHeads);
    }
    if (identity !== anchor.identity) {
      await withTenant(this.deps.dataSource, projectId, (s) =>
        s.query(`UPDATE character_anchors SET identity = $2 WHERE id = $1`, [anchor.id, identity]));
    }
    return { bytes, identity };
  }

  /**
   * What builds the anchor's bank: its identity phase, or, for a character anchored on reference
   * images, those pictures as stored, cropped and resized to the render size.
   */
  private async bankRequest(projectId: string, anchor: CharacterAnchor, request: JobRequest, pack: PackInfo, judge: boolean)
    : Promise<Omit<BuildBankRequest, 'id'> | Omit<ReferenceBankRequest, 'id'>> {
    const { recipe } = anchor;
    if (!recipe.references?.length) return { op: 'buildBank', packDir: pack.dir, recipe, settings: request.settings, judge };
    const width = request.settings.width ?? pack.native.width;
    const height = request.settings.height ?? pack.native.height;
    const rows = await withTenant(this.deps.dataSource, projectId, (s) =>
      s.query<{ id: string; storage_key: string }>(`SELECT id, storage_key FROM images WHERE id = ANY($1::uuid[])`, [recipe.references!.map((r) => r.imageId)]));
    const pictures = float32([recipe.references.length, 3, height, width]);
    for (const [k, ref] of recipe.references.entries()) {
      const row = rows.find((r) => r.id === ref.imageId);
      const bytes = row && (await this.deps.images.get(row.storage_key));
      if (!bytes) throw new Gone('a reference image of the character was removed');
      pictures.data.set(await referencePicture(bytes, ref.crop, width, height), k * 3 * width * height);
    }
    return {
      op: 'referenceBank', packDir: pack.dir, settings: request.settings, judge,
      recipe: { pictures, prompts: recipe.prompts, negativePrompt: recipe.negativePrompt, rate: recipe.rate, csaSeed: recipe.csaSeed },
    };
  }

  /**
   * The progress callback of one compute request: passes steps on to the job's progress, and
   * records the time from each step to the next (step k to k + 1 of the same run; what comes
   * before a run's first step, loading and encoding, is not a step).
   */
  private timedSteps(pack: PackInfo, op: StepOp, progress: ProgressWriter): (p: { step: number; steps: number }) => void {
    let last: { step: number; at: number } | undefined;
    return (p) => {
      const now = performance.now();
      if (last && p.step === last.step + 1) this.deps.metrics.generationStep(pack.name, op, (now - last.at) / 1000);
      // A frame finished repeats the last step: the next step is timed from the step itself.
      if (!last || p.step !== last.step) last = { step: p.step, at: now };
      progress.step(p.step, p.steps);
    };
  }
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

/**
 * What a bank build costs beside a frame, for the job's overall fraction: an identity phase runs
 * its n identity frames twice (drawn, then written or read), a reference bank one write pass per
 * picture. Rough on purpose: it only has to keep the bar moving at about the right speed.
 */
function bankUnits(anchor: CharacterAnchor): number {
  return anchor.recipe.references?.length ? anchor.recipe.references.length : 2 * Math.max(1, anchor.recipe.prompts.length);
}

/**
 * Progress to the job row: steps at most every 250 ms, phase changes and frames at once; writes
 * one at a time. The whole-job fraction weighs each bank and frame by its cost (a cached bank
 * just completes its share). A write that finds the job no longer running (cancelled) aborts the
 * work.
 */
class ProgressWriter {
  private banks: number[] = [];
  private framesTotal = 0;
  private phase: 'IDENTITY' | 'FRAMES' = 'IDENTITY';
  private banksDone = 0;
  private framesDone = 0;
  private chunk = 0;
  private step_ = { step: 0, total: 0 };
  private dirty = false;
  private last = 0;
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly dataSource: DataSource, private readonly projectId: string, private readonly jobId: string,
    private readonly attempt: number, private readonly stop: AbortController, private readonly log: Logger) {}

  /** The work of this attempt: the cost of each bank it builds, and the job's frames (some maybe done already). */
  plan(bankUnits: number[], framesTotal: number, framesDone = 0): void {
    this.banks = bankUnits;
    this.framesTotal = framesTotal;
    this.framesDone = framesDone;
  }

  bankStarted(index: number): void {
    this.phase = 'IDENTITY';
    this.banksDone = index;
    this.now();
  }

  /** A render run of `chunk` frames, `steps` denoising steps, begins. */
  rendering(framesDone: number, chunk: number, steps: number): void {
    this.phase = 'FRAMES';
    this.banksDone = this.banks.length;
    this.framesDone = framesDone;
    this.chunk = chunk;
    this.now(steps);
  }

  step(step: number, total: number): void {
    this.step_ = { step, total };
    this.dirty = true;
    if (performance.now() - this.last >= 250) void this.write();
  }

  /** A frame of the run is stored: it moves from the run's share (at its last step) to the done count. */
  frames(done: number): void {
    this.framesDone = done;
    this.chunk = Math.max(0, this.chunk - 1);
    this.dirty = true;
    void this.write();
  }

  flush(): Promise<void> {
    if (this.dirty) void this.write();
    return this.chain.then(() => {
      if (this.stop.signal.aborted && this.stop.signal.reason instanceof Stopped) throw this.stop.signal.reason;
    });
  }

  /** A new phase or run: its step count starts again (its length unknown until its first step, for a bank). */
  private now(total = 0): void {
    this.step_ = { step: 0, total };
    this.dirty = true;
    void this.write();
  }

  private fraction(): number {
    const bankTotal = this.banks.reduce((a, b) => a + b, 0);
    const all = bankTotal + this.framesTotal;
    if (all === 0) return 0;
    const within = this.step_.total > 0 ? Math.min(1, this.step_.step / this.step_.total) : 0;
    if (this.phase === 'IDENTITY') {
      const before = this.banks.slice(0, this.banksDone).reduce((a, b) => a + b, 0);
      return (before + (this.banks[this.banksDone] ?? 0) * within) / all;
    }
    // A frame's last tenth is its encoding and storing: the bar is full only once the last one is stored.
    return (bankTotal + this.framesDone + this.chunk * 0.9 * within) / all;
  }

  private write(): Promise<void> {
    this.last = performance.now();
    this.chain = this.chain.then(async () => {
      if (!this.dirty) return;
      this.dirty = false;
      const update = {
        ...this.step_, phase: this.phase, fraction: this.fraction(), banksDone: this.banksDone, banksTotal: this.banks.length,
        framesRunning: this.phase === 'FRAMES' ? this.chunk : 0,
        ...(this.phase === 'FRAMES' || this.framesDone > 0 ? { framesDone: this.framesDone } : {}),
      };
      try {
    const running = await withTenant(this.dataSource, this.projectId, (s) => reportProgress(s, this.jobId, this.attempt, update));
        if (!running && !this.stop.signal.aborted) this.stop.abort(new Stopped('the job was cancelled, or a newer attempt runs it'));
      } catch (error) {
        this.log.warn('progress write failed', { jobId: this.jobId, error });
      }
    });
    return this.chain;
  }
}
