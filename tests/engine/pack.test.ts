/** @jest-environment ./tests/engine/ort-environment.js */
import { cpSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PackError, SDXL_BUCKETS, checkPackSessions, imageSize, loadPack, openPack, parseManifest, sizeAllowed } from '../../src/engine/pack';
import { Runtime } from '../../src/engine/runtime';

const ROOT = join(__dirname, '../..');
const STORY = join(ROOT, 'models/packs/story-world');
const SD = join(ROOT, 'models/packs/sd15-tiny');
const raw = (dir: string) => JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Record<string, any>;

describe('parseManifest', () => {
  it('reads the story-world manifest written by export.py', () => {
    const m = parseManifest(raw(STORY));
    expect(m.space).toBe('pixel');
    expect(m.sample).toEqual({ channels: 3, height: 32, width: 32 });
    expect(m.text).toEqual({ maxLength: 32, hiddenSize: 128, tokenizer: 'story-world-words' });
    expect(m.scheduler.timestepSpacing).toBe('trailing');
    expect(m.defaults.scheduler).toBe('ddim');
    expect(m.csa!.layers).toEqual(m.selfAttention.map((l) => l.name));
    expect(m.csa!.identityWrite).toMatch(/^(joint|first)$/);
    expect(m.csa!.referenceNoise).toBeGreaterThan(0);
    expect(m.upscale).toEqual({ factor: 8, kernel: 'nearest' });
  });

  it('reads the SD pack: latent space, VAE, CLIP tokenizer, and keeps height and width apart', () => {
    const m = parseManifest(raw(SD));
    expect(m.space).toBe('latent');
    expect(m.files.vae_decoder).toBe('vae_decoder.onnx');
    expect(m.latentScale).toBe(0.18215);
    expect(m.text).toMatchObject({ maxLength: 77, tokenizer: 'clip-bpe', padToken: '<|endoftext|>' });
    expect(m.sample).toEqual({ channels: 4, height: 16, width: 24 });
    expect(imageSize(m)).toEqual({ height: 128, width: 192 });
  });

  it('keeps a guidance of 0 as 0', () => {
    const r = raw(STORY);
    expect(parseManifest({ ...r, defaults: { ...r.defaults, guidance: 0 } }).defaults.guidance).toBe(0);
  });

  it("takes the sizes from the manifest, or else from the family: SD1.5's multiples of 64, SDXL's buckets, the native size otherwise", () => {
    const r = raw(SD);
    const sd = parseManifest(r).sizes;
    expect(sd).toEqual({ kind: 'multiple', multipleOf: 64, min: 256, max: 1024 });
    const native = { width: 192, height: 128 };
    expect([[192, 128], [256, 320], [1024, 1024], [300, 256], [1088, 256], [192, 192]].map(([width, height]) => sizeAllowed(sd, native, { width: width!, height: height! })))
      .toEqual([true, true, true, false, false, false]);
    const { sizes: tinyBuckets, ...xlRaw } = raw(join(ROOT, 'models/packs/sdxl-tiny'));
    expect(tinyBuckets.buckets).toHaveLength(4); // the tiny test pack declares its own, scaled down
    const xl = parseManifest(xlRaw).sizes;
    expect(xl).toEqual({ kind: 'buckets', buckets: SDXL_BUCKETS });
    expect(sizeAllowed(xl, native, { width: 1152, height: 896 })).toBe(true);
    expect(sizeAllowed(xl, native, { width: 1024, height: 1152 })).toBe(false);
    expect(parseManifest({ ...r, family: 'mine' }).sizes).toEqual({ kind: 'native' });
    expect(parseManifest(raw(STORY)).sizes).toEqual({ kind: 'native' });
    expect(parseManifest({ ...r, sizes: { buckets: [[512, 768]] } }).sizes).toEqual({ kind: 'buckets', buckets: [{ width: 512, height: 768 }] });
    expect(() => parseManifest({ ...r, sizes: { buckets: [[512]] } })).toThrow(/sizes\.buckets\[0\] must be \[width, height\]/);
  });

  it.each([
    ['an unknown scheduler', (r: any) => ({ ...r, defaults: { ...r.defaults, scheduler: 'pndm' } }), /defaults\.scheduler must be one of ddim, euler_ancestral, dpmpp_2m \(unknown scheduler\), got "pndm"/],
    ['a wrong format', (r: any) => ({ ...r, format: 'storyforge-pack/9' }), /format must be "storyforge-pack\/1"/],
    ['a latent pack without VAE', (r: any) => ({ ...r, files: { ...r.files, vae_decoder: undefined } }), /files\.vae_decoder is required when space is "latent"/],
    ['a bad scheduler config', (r: any) => ({ ...r, scheduler: { ...r.scheduler, beta_schedule: 'cosine' } }), /scheduler\.beta_schedule must be one of linear, scaled_linear/],
    ['an unknown tokenizer', (r: any) => ({ ...r, text: { ...r.text, tokenizer: 'sentencepiece' } }), /text\.tokenizer must be one of story-world-words, clip-bpe/],
    ['a CSA layer the model does not list', (r: any) => ({ ...r, csa: { ...r.csa, layers: ['up_blocks.9.x.attn1'] } }), /csa\.layers must name layers listed in self_attention/],
    ['a negative guidance', (r: any) => ({ ...r, defaults: { ...r.defaults, guidance: -1 } }), /defaults\.guidance must be a number >= 0/],
    ['an unknown identity write', (r: any) => ({ ...r, csa: { ...r.csa, identity_write: 'together' } }), /csa\.identity_write must be "joint" or "first"/],
    ['a reference noise above 1', (r: any) => ({ ...r, csa: { ...r.csa, reference_noise: 1.5 } }), /csa\.reference_noise must be in \[0, 1\]/],
  ])('rejects %s with a message naming the field', (_what, edit, message) => {
    const r = raw(SD);
    const edited = edit(r);
    if (edited.files?.vae_decoder === undefined && edited.files) delete edited.files.vae_decoder;
    expect(() => parseManifest(edited)).toThrow(PackError);
    expect(() => parseManifest(edited)).toThrow(message);
  });
});

describe('loadPack', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'pack-'));
    cpSync(SD, dir, { recursive: true });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('loads a pack, resolves its files and verifies hashes', async () => {
    const pack = await loadPack(dir, { verifyHashes: true });
    expect(pack.file('unet')).toBe(join(dir, 'unet.onnx'));
    expect(pack.manifest.name).toBe('sd15-tiny');
  });

  it('names a missing file', async () => {
    unlinkSync(join(dir, 'vae_decoder.onnx'));
    await expect(loadPack(dir)).rejects.toThrow(/files\.vae_decoder names vae_decoder\.onnx, which is missing/);
  });

  it('names bad JSON and a missing manifest', async () => {
    writeFileSync(join(dir, 'manifest.json'), '{"format": ');
    await expect(loadPack(dir)).rejects.toThrow(/manifest\.json is not valid JSON/);
    unlinkSync(join(dir, 'manifest.json'));
    await expect(loadPack(dir)).rejects.toThrow(/no manifest\.json/);
  });

  it('catches a changed file by its hash', async () => {
    writeFileSync(join(dir, 'tokenizer.json'), '{}');
    await expect(loadPack(dir, { verifyHashes: true })).rejects.toThrow(/tokenizer\.json has SHA-256 [0-9a-f]{64}, the manifest says/);
  });
});

describe('openPack and session checks', () => {
  const runtime = new Runtime({ intraOpThreads: 2 });
  afterAll(() => runtime.dispose());

  it.each([['story-world', STORY], ['sd15-tiny', SD]])('opens the %s pack with the CSA patch and its sessions match the manifest', async (_n, dir) => {
    const pack = await loadPack(dir);
    const opened = await openPack(pack, runtime, { csa: true });
    expect(opened.csa!.layers.map((l) => l.name)).toEqual(pack.manifest.csa!.layers);
    expect(opened.unet.inputs.some((i) => i.name.endsWith('.csa_index'))).toBe(true);
    expect(Boolean(opened.vaeDecoder)).toBe(pack.manifest.space === 'latent');
  });

  it('reports a text encoder whose width disagrees with the manifest, with both numbers', async () => {
    const pack = await loadPack(SD);
    const opened = await openPack(pack, runtime);
    const m = { ...pack.manifest, text: { ...pack.manifest.text, hiddenSize: 768 } };
    const sessions = { textEncoder: opened.textEncoder, unet: opened.unet, vaeDecoder: opened.vaeDecoder! };
    expect(() => checkPackSessions(m, sessions)).toThrow('text_encoder: output last_hidden_state has shape [batch, 77, 32], the manifest implies [?, 77, 768] (dimension 2)');
    const renamed = { ...sessions, unet: { inputs: opened.unet.inputs.map((i) => (i.name === 'sample' ? { ...i, name: 'latents' } : i)), outputs: opened.unet.outputs } };
    expect(() => checkPackSessions(pack.manifest, renamed)).toThrow(/unet: no input named sample; the model has latents, timestep, encoder_hidden_states/);
    const swapped = { ...pack.manifest, sample: { channels: 4, height: 24, width: 16 } };
    const fixed = { ...sessions, unet: { inputs: opened.unet.inputs.map((i) => (i.name === 'sample' ? { ...i, shape: ['batch', 4, 16, 24] } : i)), outputs: opened.unet.outputs } };
    expect(() => checkPackSessions(swapped, fixed)).toThrow(/unet: input sample has shape \[batch, 4, 16, 24\], the manifest implies \[\?, 4, 24, 16\] \(dimension 2\)/);
  });
});
