/**
 * The engine's front door: a model pack opened once, then identity banks built and frames
 * rendered on demand. Prompts, seeds and banks in; RGB pixels out. It knows nothing of
 * projects, jobs or storage: callers keep banks wherever they like (IdentityBank serialises).
 *
 * Identity phase (buildBank): the anchor's identity frames are drawn sharing tokens through
 * the CSA-patched UNet (all together, as StoryDiffusion does, or the first alone and each next
 * one reading the ones before it: the pack says which). The finished identity frames are then
 * the references of the character's bank: each is noised to a share of every step's timestep
 * and run through the UNet once, its sampled tokens kept (referenceBank). Later frames and
 * regenerations read that bank: the character as it was drawn, not as it was while drawing.
 * Read phase (render): each frame prepends its characters' bank tokens; frames are batched
 * by the characters they show (a batch shares one token count per layer).
 */
import { createHash } from 'node:crypto';
import type { CsaLayerPatch } from './csa';
import { Conditioning, openConditioning } from './conditioning';
import { IdentityWriteMode, ImageSize, ModelPack, OpenedPack, PackManifest, imageSize, loadPack, openPack } from './pack';
import { tokensAtLevel } from './csa/layer-tokens';
import { Runtime, RuntimeConfig } from './runtime';
import { SchedulerName, createScheduler } from './schedulers';
import { Float32Tensor, concatRows, float32 } from './tensor';
import { denoise, SampleShape } from './pipelines/denoise';
import { writeReferences } from './pipelines/reference-write';
import { alphasCumprod } from './schedulers/noise-schedule';
import { RgbImage, decodeLatents, toRgb } from './pipelines/decode';
import { makeCsaPlan, tokensAt, ApplySchedule, STORY_DIFFUSION_SCHEDULE, CsaLayerInfo } from './story/csa-plan';
import { BankHeader, IdentityBank } from './story/identity-bank';
import { BankRead, CsaPhase, IdentityWrite, PlainAttention } from './story/csa-phases';

export interface GenerationSettings {
  scheduler: SchedulerName;
  steps: number;
  guidance: number;
  /** Decoded image size in pixels (before the display upscale); default: the pack's native size. */
  width?: number;
  height?: number;
}

/** Everything that follows from the image size: the UNet's sample shape and the CSA layers' token counts. */
interface Geometry {
  image: ImageSize;
  sample: SampleShape;
  /** The patched layers with their token counts at this size. */
  layers: CsaLayerPatch[];
  info: CsaLayerInfo[];
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
  /** Seeds the shared-token choices, the apply coins and the references' noise. */
  csaSeed: number;
  /** How the identity frames share (default: the pack's csa.identity_write). */
  write?: IdentityWriteMode;
  /** Share of each step's timestep the references are noised to (default: the pack's csa.reference_noise). */
  referenceNoise?: number;
  /** Guidance of the first identity frame in the "first" write (default: the settings' guidance). */
  identityGuidance?: number;
}

/** A bank from finished pictures: uploaded reference images, or a character's identity frames. */
export interface ReferenceRecipe {
  /** [R, 3, H, W] in [-1, 1] at the pack's size. */
  pictures: Float32Tensor;
  /** One prompt per picture (what it shows; the description is enough). */
  prompts: string[];
  negativePrompt: string;
  rate: number | Readonly<Record<number, number>>;
  csaSeed: number;
  referenceNoise?: number;
}

/** The references' noise comes from the CSA seed moved by this much (evaluate.py does the same). */
const NOISE_SEED_OFFSET = 1_000_003;

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

  /** The image size of `settings` (the pack's native one by default) and what follows from it. */
  geometry(settings: Pick<GenerationSettings, 'width' | 'height'>): Geometry {
    const m = this.manifest;
    const native = imageSize(m);
    const image = { width: settings.width ?? native.width, height: settings.height ?? native.height };
    for (const side of ['width', 'height'] as const) {
      if (!Number.isInteger(image[side]) || image[side] < 1 || image[side] % m.scaleFactor !== 0) {
        throw new RangeError(`${side} must be a positive multiple of ${m.scaleFactor} for pack ${m.name}, got ${image[side]}`);
      }
    }
    const sample = { channels: m.sample.channels, height: image.height / m.scaleFactor, width: image.width / m.scaleFactor };
    const layers = this.patchedLayers().map((l) => {
      if (sample.height === m.sample.height && sample.width === m.sample.width) return l;
      // A layer's depth in the UNet is the number of halvings that take the native grid to its token count.
      const level = [...Array(12).keys()].find((k) => tokensAtLevel(m.sample, k) === l.tokens);
      if (level === undefined) throw new RangeError(`pack ${m.name} cannot render ${image.width}x${image.height}: CSA layer ${l.name} has ${l.tokens} tokens, no halving of the ${m.sample.width}x${m.sample.height} sample`);
      return { ...l, tokens: tokensAtLevel(sample, level) };
    });
    return { image, sample, layers, info: layers.map((l) => ({ name: l.name, tokens: l.tokens! })) };
  }

  private rates(rate: AnchorRecipe['rate'], geometry: Geometry): Map<number, number> {
    const counts = new Set(geometry.info.map((l) => l.tokens));
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
    const g = this.geometry(settings);
    const rates = Object.fromEntries(this.rates(recipe.rate, g));
    const resolved = { ...recipe, rate: rates, write: this.writeMode(recipe), referenceNoise: this.referenceNoise(recipe) };
    // The native size is written out only when asked for, so banks made before sizes existed keep their hash.
    const key = JSON.stringify({ model: this.modelHash, recipe: resolved, settings,
      layers: g.info, schedule: this.schedule });
    return createHash('sha256').update(key).digest('hex');
  }

  private writeMode(recipe: Pick<AnchorRecipe, 'write'>): IdentityWriteMode {
    return recipe.write ?? this.manifest.csa?.identityWrite ?? 'joint';
  }

  private referenceNoise(recipe: Pick<AnchorRecipe, 'referenceNoise'>): number {
    const f = recipe.referenceNoise ?? this.manifest.csa?.referenceNoise ?? 0.5;
    if (!(f >= 0 && f <= 1)) throw new RangeError(`reference noise must be in [0, 1], got ${f}`);
    return f;
  }

  private async run(prompts: readonly string[], negatives: readonly string[], seeds: readonly number[],
    settings: GenerationSettings, g: Geometry, csa: CsaPhase, onStep?: Progress): Promise<{ latents: Float32Tensor; pixels: Float32Tensor }> {
    checkSettings(settings);
    const scheduler = createScheduler(settings.scheduler, this.manifest.scheduler);
    scheduler.setTimesteps(settings.steps);
    const conditioning = await this.conditioning.encode(negatives, prompts, g.image);
    const request = { conditioning, seeds, shape: g.sample, scheduler, guidance: settings.guidance, csa, ...(onStep && { onStep }) };
    const x = await denoise(this.sessions.unet, request);
    const image = this.sessions.vaeDecoder ? await decodeLatents(this.sessions.vaeDecoder, x, this.manifest.latentScale) : x;
    // Pixel packs: the clamped picture is also what a reference bank is written from.
    for (let i = 0; i < image.data.length; i++) image.data[i] = Math.min(1, Math.max(-1, image.data[i]!));
    return { latents: x, pixels: image };
  }

  /**
   * The identity phase, then the character's bank written from its identity frames; returns
   * the bank and the identity frames' pictures. `onStep` counts every UNet step of the build.
   */
  async buildBank(recipe: AnchorRecipe, settings: GenerationSettings, onStep?: Progress): Promise<{ bank: IdentityBank; images: RgbImage[]; pixels: Float32Tensor }> {
    const n = recipe.prompts.length;
    if (n < 1 || recipe.seeds.length !== n) throw new RangeError(`an anchor needs one seed per identity prompt (${n} prompts, ${recipe.seeds.length} seeds)`);
    const g = this.geometry(settings);
    const rates = this.rates(recipe.rate, g);
    const write = this.writeMode(recipe);
    const noise = this.referenceNoise(recipe);
    const negatives = recipe.prompts.map(() => recipe.negativePrompt);
    // joint: identity run + bank; first: frame 0, then a bank + a read per next frame, + bank.
    const progress = stagedProgress(onStep, settings.steps, write === 'joint' ? 2 : 2 * n);
    let identity: { latents: Float32Tensor; pixels: Float32Tensor };
    if (write === 'joint') {
      const plan = makeCsaPlan({ seed: recipe.csaSeed, steps: settings.steps, layers: g.info, rates, identityFrames: n, schedule: this.schedule });
      identity = await this.run(recipe.prompts, negatives, recipe.seeds, settings, g, new IdentityWrite(g.layers, plan, n, null), progress());
    } else {
      const first = { ...settings, guidance: recipe.identityGuidance ?? settings.guidance };
      identity = await this.run(recipe.prompts.slice(0, 1), negatives.slice(0, 1), recipe.seeds.slice(0, 1), first, g, new PlainAttention(g.layers), progress());
      for (let i = 1; i < n; i++) {
        const before = await this.writeBank(identity.latents, recipe.prompts.slice(0, i), recipe.negativePrompt, rates, recipe.csaSeed, noise, settings, g, 'identity-phase', progress());
        const next = await this.run([recipe.prompts[i]!], [recipe.negativePrompt], [recipe.seeds[i]!], settings, g, this.readPhase([before], settings, g), progress());
        identity = { latents: concatRows([identity.latents, next.latents]), pixels: concatRows([identity.pixels, next.pixels]) };
      }
    }
    const bank = await this.writeBank(identity.latents, recipe.prompts, recipe.negativePrompt, rates, recipe.csaSeed, noise, settings, g,
      this.anchorHash(recipe, settings), progress());
    return { bank, images: toRgb(identity.pixels), pixels: identity.pixels };
  }

  /**
   * A bank from finished pictures (uploaded reference images): read by frames exactly like a
   * bank from identity frames. Pixel packs only: a latent pack would need its VAE encoder.
   */
  async referenceBank(recipe: ReferenceRecipe, settings: GenerationSettings, onStep?: Progress): Promise<IdentityBank> {
    if (this.sessions.vaeDecoder) throw new Error(`pack ${this.manifest.name} works in latent space; reference pictures need its VAE encoder, which packs do not carry yet`);
    const g = this.geometry(settings);
    const { channels, height, width } = g.sample;
    const dims = recipe.pictures.dims;
    if (dims.length !== 4 || dims[1] !== channels || dims[2] !== height || dims[3] !== width || dims[0]! < 1) {
      throw new RangeError(`reference pictures must be [R, ${channels}, ${height}, ${width}], got [${dims.join(', ')}]`);
    }
    if (recipe.prompts.length !== dims[0]) throw new RangeError(`${dims[0]} reference pictures need ${dims[0]} prompts, got ${recipe.prompts.length}`);
    const noise = this.referenceNoise(recipe);
    const rates = this.rates(recipe.rate, g);
    const anchor = createHash('sha256').update(JSON.stringify({ model: this.modelHash, prompts: recipe.prompts, negative: recipe.negativePrompt,
      rates: Object.fromEntries(rates), csaSeed: recipe.csaSeed, noise, settings, layers: g.info }))
      .update(new Uint8Array(recipe.pictures.data.buffer, recipe.pictures.data.byteOffset, recipe.pictures.data.byteLength)).digest('hex');
    return this.writeBank(recipe.pictures, recipe.prompts, recipe.negativePrompt, rates, recipe.csaSeed, noise, settings, g, anchor, onStep);
  }

  private bankHeader(csaSeed: number, frames: number, rates: Map<number, number>, settings: GenerationSettings, g: Geometry, anchor: string,
    references: BankHeader['references']): BankHeader {
    return {
      format: 'storyforge-bank/1', model: this.modelHash, anchor,
      scheduler: settings.scheduler, steps: settings.steps, guidance: settings.guidance,
      width: g.sample.width, height: g.sample.height, identityFrames: frames,
      rates: Object.fromEntries([...rates].map(([k, v]) => [String(k), v])), csaSeed,
      layers: g.layers.map((l) => ({ name: l.name, tokens: l.tokens!, channels: l.channels, shared: frames * tokensAt(rates.get(l.tokens!)!, l.tokens!) })),
      ...(references && { references }),
    };
  }

  private async writeBank(latents: Float32Tensor, prompts: readonly string[], negativePrompt: string, rates: Map<number, number>,
    csaSeed: number, noise: number, settings: GenerationSettings, g: Geometry, anchor: string, onStep?: Progress): Promise<IdentityBank> {
    checkSettings(settings);
    const R = latents.dims[0]!;
    const bank = IdentityBank.empty(this.bankHeader(csaSeed, R, rates, settings, g, anchor, { referenceNoise: noise }));
    const plan = makeCsaPlan({ seed: csaSeed, steps: settings.steps, layers: g.info, rates, identityFrames: R, schedule: this.schedule });
    // Store only: the references attend to themselves, as in training.
    const store = { ...plan, apply: plan.apply.map((row) => row.map(() => false)) };
    const scheduler = createScheduler(settings.scheduler, this.manifest.scheduler);
    scheduler.setTimesteps(settings.steps);
    const conditioning = await this.conditioning.encode(prompts.map(() => negativePrompt), prompts, g.image);
    await writeReferences(this.sessions.unet, {
      conditioning, latents, noiseSeed: (csaSeed + NOISE_SEED_OFFSET) >>> 0, fraction: noise, timesteps: scheduler.timesteps,
      alphasCumprod: alphasCumprod(this.manifest.scheduler), csa: new IdentityWrite(g.layers, store, R, bank), ...(onStep && { onStep }),
    });
    return bank;
  }

  private readPhase(banks: readonly IdentityBank[], settings: GenerationSettings, g: Geometry): CsaPhase {
    const layers = g.layers;
    if (banks.length === 0) return new PlainAttention(layers);
    for (const bank of banks) checkBank(bank, this.modelHash, settings, g.sample);
    return new BankRead(layers, makeCsaPlan({ seed: readSeed(banks), steps: settings.steps, layers: g.info,
      rates: new Map(), identityFrames: 0, schedule: this.schedule }), banks);
  }

  /** The read phase: frames in batches, each reading its characters' banks. `onStep`: denoising steps of the current batch. */
  async render(frames: readonly FrameRequest[], settings: GenerationSettings, onFrame?: Progress, onStep?: Progress): Promise<{ images: RgbImage[]; pixels: Float32Tensor[] }> {
    const images: RgbImage[] = new Array(frames.length);
    const pixels: Float32Tensor[] = new Array(frames.length);
    let done = 0;
    const g = this.geometry(settings);
    for (const group of groupByCast(frames)) {
      const phase = this.readPhase(group.banks, settings, g);
      for (let at = 0; at < group.indices.length; at += this.batchSize) {
        const idx = group.indices.slice(at, at + this.batchSize);
        const batch = idx.map((i) => frames[i]!);
        const { pixels: x } = await this.run(batch.map((f) => f.prompt), batch.map((f) => f.negativePrompt), batch.map((f) => f.seed), settings, g, phase, onStep);
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

function checkBank(bank: IdentityBank, model: string, s: GenerationSettings, sample: SampleShape): void {
  const h = bank.header;
  if (h.model !== model) throw new Error(`identity bank ${h.anchor.slice(0, 12)} was made with another model`);
  if (h.width !== sample.width || h.height !== sample.height) {
    throw new Error(`identity bank ${h.anchor.slice(0, 12)} holds tokens of a ${h.width}x${h.height} sample; this render is ${sample.width}x${sample.height}`);
  }
  if (h.steps !== s.steps || h.scheduler !== s.scheduler) {
    throw new Error(`identity bank ${h.anchor.slice(0, 12)} holds ${h.steps} ${h.scheduler} steps; this render asks for ${s.steps} ${s.scheduler} steps`);
  }
}

/** The read phase's apply coins come from the banks, so a frame renders the same alone or in any batch. */
function readSeed(banks: readonly IdentityBank[]): number {
  return banks.reduce((s, b) => (s ^ b.header.csaSeed) >>> 0, 0) + 1;
}

/** One progress count over several UNet runs of `steps` each: call the result once per run. */
function stagedProgress(onStep: Progress | undefined, steps: number, runs: number): () => Progress | undefined {
  let run = 0;
  return () => {
    if (!onStep) return undefined;
    const offset = steps * run++;
    return (done) => onStep(offset + done, steps * runs);
  };
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
