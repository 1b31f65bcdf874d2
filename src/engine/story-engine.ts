/**
 * The engine's front door: a model pack opened once, then identity banks built and frames
 * rendered on demand. Prompts, seeds and banks in; RGB pixels out. It knows nothing of
 * projects, jobs or storage: callers keep banks wherever they like (IdentityBank serialises).
 *
 * Identity phase (buildBank): the anchor's identity frames are denoised together, sharing
 * tokens through the CSA-patched UNet, and the shared tokens of every step and layer are kept.
 * Read phase (render): each frame prepends its characters' bank tokens; frames are batched
 * by the characters they show (a batch shares one token count per layer).
 */
import { createHash } from 'node:crypto';
import type { CsaLayerPatch } from './csa';
import { Conditioning, openConditioning } from './conditioning';
import { ModelPack, OpenedPack, PackManifest, imageSize, loadPack, openPack } from './pack';
import { Runtime, RuntimeConfig } from './runtime';
import { SchedulerName, createScheduler } from './schedulers';
import { Float32Tensor, float32 } from './tensor';
import { denoise, SampleShape } from './pipelines/denoise';
import { RgbImage, decodeLatents, toRgb } from './pipelines/decode';
import { makeCsaPlan, tokensAt, ApplySchedule, STORY_DIFFUSION_SCHEDULE, CsaLayerInfo } from './story/csa-plan';
import { BankHeader, IdentityBank } from './story/identity-bank';
import { BankRead, CsaPhase, IdentityWrite, PlainAttention } from './story/csa-phases';

export interface GenerationSettings {
  scheduler: SchedulerName;
  steps: number;
  guidance: number;
}

/** Everything that fixes a character's identity bank; the same recipe rebuilds the same bank. */
export interface AnchorRecipe {
  /** Full prompts of the identity frames (identity description + an action each). */
  prompts: string[];
  negativePrompt: string;
  /** One seed per identity frame. */
  seeds: number[];
  /** Sampling rate for every CSA layer, or per token count. */
  rate: number | Readonly<Record<number, number>>;
  /** Seeds the shared-token choices and the apply coins. */
  csaSeed: number;
}

export interface FrameRequest {
  prompt: string;
  negativePrompt: string;
  seed: number;
  /** Banks of the characters in the frame; none for a frame without characters. */
  banks: readonly IdentityBank[];
}

export interface EngineOptions {
  runtime?: Partial<RuntimeConfig>;
  /** Open the pack's judge (attribute classifier) when it has one. */
  judge?: boolean;
  /** Frames per UNet run in the read phase. */
  batchSize?: number;
}

export type Progress = (done: number, total: number) => void;

export class StoryEngine {
  private constructor(
    readonly pack: ModelPack,
    private readonly runtime: Runtime,
    private readonly sessions: OpenedPack,
    /** Prompts -> UNet feeds, as the pack's family conditions (SD1.5: one encoder; SDXL: two + time ids). */
    private readonly conditioning: Conditioning,
    /** sha256 of the UNet: banks remember which model made them. */
    readonly modelHash: string,
    private readonly batchSize: number,
  ) {}

  static async open(dir: string, options: EngineOptions = {}): Promise<StoryEngine> {
    const pack = await loadPack(dir);
    const runtime = new Runtime(options.runtime);
    try {
      const sessions = await openPack(pack, runtime, { csa: true, judge: options.judge ?? false });
      const m = pack.manifest;
      const conditioning = await openConditioning(pack, sessions);
      const modelHash = m.sha256[m.files.unet] ?? createHash('sha256').update(`${m.name}:${m.files.unet}`).digest('hex');
      return new StoryEngine(pack, runtime, sessions, conditioning, modelHash, options.batchSize ?? 4);
    } catch (err) {
      await runtime.dispose();
      throw err;
    }
  }

  get manifest(): PackManifest {
    return this.pack.manifest;
  }

  get hasJudge(): boolean {
    return this.sessions.judge !== undefined;
  }

  /** The CSA layers of the patched UNet, in graph order, with their token counts. */
  get csaLayers(): CsaLayerInfo[] {
    return this.patchedLayers().map((l) => ({ name: l.name, tokens: l.tokens! }));
  }

  private patchedLayers(): CsaLayerPatch[] {
    const layers = this.sessions.csa?.layers ?? [];
    for (const l of layers) if (l.tokens === null) throw new Error(`CSA layer ${l.name}: the manifest does not give its token count`);
    return layers;
  }

  private get schedule(): ApplySchedule {
    return this.manifest.csa?.applyProbability ?? STORY_DIFFUSION_SCHEDULE;
  }

  private get shape(): SampleShape {
    return { ...this.manifest.sample };
  }

  private rates(rate: AnchorRecipe['rate']): Map<number, number> {
    const counts = new Set(this.csaLayers.map((l) => l.tokens));
    const map = new Map<number, number>();
    for (const n of counts) {
      const r = typeof rate === 'number' ? rate : rate[n];
      if (r === undefined || !(r >= 0 && r <= 1)) throw new RangeError(`sampling rate for ${n}-token layers must be in [0, 1], got ${String(r)}`);
      map.set(n, r);
    }
    return map;
  }

  /** Identifies a bank: same recipe, settings and model -> same hash -> same tokens. */
  anchorHash(recipe: AnchorRecipe, settings: GenerationSettings): string {
    const rates = Object.fromEntries(this.rates(recipe.rate));
    const key = JSON.stringify({ model: this.modelHash, recipe: { ...recipe, rate: rates }, settings,
      layers: this.csaLayers, schedule: this.schedule });
    return createHash('sha256').update(key).digest('hex');
  }

  private async run(prompts: readonly string[], negatives: readonly string[], seeds: readonly number[],
    settings: GenerationSettings, csa: CsaPhase, onStep?: Progress): Promise<Float32Tensor> {
    checkSettings(settings);
    const scheduler = createScheduler(settings.scheduler, this.manifest.scheduler);
    scheduler.setTimesteps(settings.steps);
    const conditioning = await this.conditioning.encode(negatives, prompts, imageSize(this.manifest));
    const request = { conditioning, seeds, shape: this.shape, scheduler, guidance: settings.guidance, csa, ...(onStep && { onStep }) };
    const x = await denoise(this.sessions.unet, request);
    const image = this.sessions.vaeDecoder ? await decodeLatents(this.sessions.vaeDecoder, x, this.manifest.latentScale) : x;
    for (let i = 0; i < image.data.length; i++) image.data[i] = Math.min(1, Math.max(-1, image.data[i]!));
    return image;
  }

  /** The identity phase: returns the bank and the identity frames' pictures. */
  async buildBank(recipe: AnchorRecipe, settings: GenerationSettings, onStep?: Progress): Promise<{ bank: IdentityBank; images: RgbImage[]; pixels: Float32Tensor }> {
    const n = recipe.prompts.length;
    if (n < 1 || recipe.seeds.length !== n) throw new RangeError(`an anchor needs one seed per identity prompt (${n} prompts, ${recipe.seeds.length} seeds)`);
    const rates = this.rates(recipe.rate);
    const layers = this.patchedLayers();
    const header: BankHeader = {
      format: 'storyforge-bank/1', model: this.modelHash, anchor: this.anchorHash(recipe, settings),
      scheduler: settings.scheduler, steps: settings.steps, guidance: settings.guidance,
      width: this.shape.width, height: this.shape.height, identityFrames: n,
      rates: Object.fromEntries([...rates].map(([k, v]) => [String(k), v])), csaSeed: recipe.csaSeed,
      layers: layers.map((l) => ({ name: l.name, tokens: l.tokens!, channels: l.channels, shared: n * tokensAt(rates.get(l.tokens!)!, l.tokens!) })),
    };
    const bank = IdentityBank.empty(header);
    const plan = makeCsaPlan({ seed: recipe.csaSeed, steps: settings.steps, layers: this.csaLayers, rates, identityFrames: n, schedule: this.schedule });
    const pixels = await this.run(recipe.prompts, recipe.prompts.map(() => recipe.negativePrompt), recipe.seeds, settings,
      new IdentityWrite(layers, plan, n, bank), onStep);
    return { bank, images: toRgb(pixels), pixels };
  }

  /** The read phase: frames in batches, each reading its characters' banks. `onStep`: denoising steps of the current batch. */
  async render(frames: readonly FrameRequest[], settings: GenerationSettings, onFrame?: Progress, onStep?: Progress): Promise<{ images: RgbImage[]; pixels: Float32Tensor[] }> {
    const images: RgbImage[] = new Array(frames.length);
    const pixels: Float32Tensor[] = new Array(frames.length);
    let done = 0;
    for (const group of groupByCast(frames)) {
      const banks = group.banks;
      for (const bank of banks) checkBank(bank, this.modelHash, settings);
      const layers = this.patchedLayers();
      const phase: CsaPhase = banks.length === 0 ? new PlainAttention(layers)
        : new BankRead(layers, makeCsaPlan({ seed: readSeed(banks), steps: settings.steps, layers: this.csaLayers,
          rates: new Map(), identityFrames: 0, schedule: this.schedule }), banks);
      for (let at = 0; at < group.indices.length; at += this.batchSize) {
        const idx = group.indices.slice(at, at + this.batchSize);
        const batch = idx.map((i) => frames[i]!);
        const x = await this.run(batch.map((f) => f.prompt), batch.map((f) => f.negativePrompt), batch.map((f) => f.seed), settings, phase, onStep);
        const rgb = toRgb(x);
        const per = x.data.length / idx.length;
        idx.forEach((i, k) => {
          images[i] = rgb[k]!;
          pixels[i] = float32([1, ...x.dims.slice(1)], x.data.subarray(k * per, (k + 1) * per));
        });
        done += idx.length;
        onFrame?.(done, frames.length);
      }
    }
    return { images, pixels };
  }

  /** The judge's reading of each picture: head name -> predicted label index. */
  async judge(pixels: Float32Tensor): Promise<Array<Record<string, number>>> {
    const judge = this.sessions.judge;
    if (!judge) throw new Error(`pack ${this.manifest.name} has no judge`);
    const out = await judge.run({ [judge.inputs[0]!.name]: pixels });
    const B = pixels.dims[0]!;
    const result: Array<Record<string, number>> = Array.from({ length: B }, () => ({}));
    for (const [head, logits] of Object.entries(out)) {
      if (logits.type !== 'float32') continue;
      const k = logits.dims[1]!;
      for (let b = 0; b < B; b++) {
        let best = 0;
        for (let c = 1; c < k; c++) if (logits.data[b * k + c]! > logits.data[b * k + best]!) best = c;
        result[b]![head] = best;
      }
    }
    return result;
  }

  async dispose(): Promise<void> {
    await this.runtime.dispose();
  }
}

function checkSettings(s: GenerationSettings): void {
  if (!Number.isInteger(s.steps) || s.steps < 1 || s.steps > 1000) throw new RangeError(`steps must be an integer in 1..1000, got ${s.steps}`);
  if (!Number.isFinite(s.guidance) || s.guidance < 0) throw new RangeError(`guidance must be >= 0, got ${s.guidance}`);
}

function checkBank(bank: IdentityBank, model: string, s: GenerationSettings): void {
  const h = bank.header;
  if (h.model !== model) throw new Error(`identity bank ${h.anchor.slice(0, 12)} was made with another model`);
  if (h.steps !== s.steps || h.scheduler !== s.scheduler) {
    throw new Error(`identity bank ${h.anchor.slice(0, 12)} holds ${h.steps} ${h.scheduler} steps; this render asks for ${s.steps} ${s.scheduler} steps`);
  }
}

/** The read phase's apply coins come from the banks, so a frame renders the same alone or in any batch. */
function readSeed(banks: readonly IdentityBank[]): number {
  return banks.reduce((s, b) => (s ^ b.header.csaSeed) >>> 0, 0) + 1;
}

function groupByCast(frames: readonly FrameRequest[]): Array<{ banks: readonly IdentityBank[]; indices: number[] }> {
  const groups = new Map<string, { banks: readonly IdentityBank[]; indices: number[] }>();
  frames.forEach((f, i) => {
    const key = f.banks.map((b) => b.header.anchor).join('+');
    const g = groups.get(key) ?? { banks: f.banks, indices: [] };
    g.indices.push(i);
    groups.set(key, g);
  });
  return [...groups.values()];
}
