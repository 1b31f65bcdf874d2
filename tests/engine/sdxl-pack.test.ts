/** @jest-environment ./tests/engine/ort-environment.js */
/**
 * The tiny SDXL-structured pack (models/sdxl-tiny/make_tiny.py): the manifest's SDXL sections,
 * the sessions checked against them, the CSA patch on a UNet with several transformer blocks
 * per attention, and ONNX Runtime against the PyTorch numbers recorded at export
 * (tests/fixtures/engine/sdxl_tiny_reference.json).
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openConditioning } from '../../src/engine/conditioning';
import { patchCsaModel, plainCsaFeeds } from '../../src/engine/csa';
import { ModelPack, OpenedPack, PackError, checkPackSessions, imageSize, loadPack, openPack, parseManifest } from '../../src/engine/pack';
import { Runtime } from '../../src/engine/runtime';
import { Float32Tensor, Tensor, float32, int64 } from '../../src/engine/tensor';
import { loadTokenizer } from '../../src/engine/tokenizer';

const ROOT = join(__dirname, '../..');
// Several sessions per pack (two text encoders, the patched UNet, the VAE): on two shared cores
// opening them alone can take most of the default 60 s.
jest.setTimeout(180_000);
const SDXL = join(ROOT, 'models/packs/sdxl-tiny');
const raw = () => JSON.parse(readFileSync(join(SDXL, 'manifest.json'), 'utf8')) as Record<string, any>;

interface Recorded { dims: number[]; float32_base64: string }
interface Reference {
  prompts: string[];
  input_ids: number[][];
  input_ids_2: number[][];
  context: Recorded;
  text_embeds: Recorded;
  unet: { sample: Recorded; timestep: number[]; time_ids: number[][]; out_sample: Recorded };
}
const ref = JSON.parse(readFileSync(join(ROOT, 'tests/fixtures/engine/sdxl_tiny_reference.json'), 'utf8')) as Reference;

function recorded(r: Recorded): Float32Tensor {
  const bytes = Buffer.from(r.float32_base64, 'base64');
  const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  return float32(r.dims, data);
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('SDXL manifest sections', () => {
  it('reads the second text encoder, the pooled output and the time ids', () => {
    const m = parseManifest(raw());
    expect(m.family).toBe('sdxl');
    expect(m.latentScale).toBe(0.13025);
    expect(m.text).toEqual({ maxLength: 77, hiddenSize: 32, tokenizer: 'clip-bpe', padToken: '<|endoftext|>', hiddenState: 'hidden_states.1' });
    expect(m.text2).toEqual({ maxLength: 77, hiddenSize: 48, tokenizer: 'clip-bpe', padToken: '!', hiddenState: 'hidden_states.2', pooled: { output: 'text_embeds', size: 40 } });
    expect(m.addTimeIds).toEqual({ order: ['original_height', 'original_width', 'crop_top', 'crop_left', 'target_height', 'target_width'], originalSize: null, cropTopLeft: { top: 0, left: 0 } });
    expect(m.forceZerosForEmptyPrompt).toBe(true);
    expect(m.files.text_encoder_2).toBe('text_encoder_2.onnx');
    expect(imageSize(m)).toEqual({ height: 192, width: 128 });
  });

  it.each([
    ['no text_encoder_2', (r: any) => { delete r.files.text_encoder_2; }, /files\.text_encoder_2 is required for family "sdxl" \(SDXL has two text encoders/],
    ['text_2 without the file on a pack of another family', (r: any) => { delete r.files.text_encoder_2; r.family = 'custom'; }, /files\.text_encoder_2 is required for text_2/],
    ['a second encoder without text_2', (r: any) => { delete r.text_2; }, /text_2 must describe files\.text_encoder_2/],
    ['text_2 without pooled', (r: any) => { delete r.text_2.pooled; }, /text_2\.pooled must be an object, got undefined/],
    ['a pooled size of 0', (r: any) => { r.text_2.pooled.size = 0; }, /text_2\.pooled\.size must be an integer >= 1, got 0/],
    ['token counts that differ', (r: any) => { r.text_2.max_length = 64; }, /text_2\.max_length must equal text\.max_length \(77\), got 64/],
    ['no add_time_ids', (r: any) => { delete r.add_time_ids; }, /add_time_ids is required with text_2/],
    ['an unknown time id', (r: any) => { r.add_time_ids.order[5] = 'aesthetic_score'; }, /add_time_ids\.order must be a list of distinct names from original_height, original_width, crop_top, crop_left, target_height, target_width/],
    ['a negative crop', (r: any) => { r.add_time_ids.crop_top_left = { top: -1, left: 0 }; }, /add_time_ids\.crop_top_left\.top must be an integer >= 0, got -1/],
    ['a non-boolean force_zeros_for_empty_prompt', (r: any) => { r.force_zeros_for_empty_prompt = 1; }, /force_zeros_for_empty_prompt must be true or false, got 1/],
  ])('rejects %s with a PackError naming the field', (_what, edit, message) => {
    const r = raw();
    edit(r);
    expect(() => parseManifest(r)).toThrow(PackError);
    expect(() => parseManifest(r)).toThrow(message);
  });

  it('loadPack names the missing second text encoder in a pack folder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sdxl-'));
    try {
      cpSync(SDXL, dir, { recursive: true });
      const r = raw();
      delete r.files.text_encoder_2;
      writeFileSync(join(dir, 'manifest.json'), JSON.stringify(r));
      await expect(loadPack(dir)).rejects.toThrow(PackError);
      await expect(loadPack(dir)).rejects.toThrow(/manifest\.json: files\.text_encoder_2 is required for family "sdxl"/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the SDXL pack opened', () => {
  const runtime = new Runtime({ intraOpThreads: 2, interOpThreads: 1 });
  let pack: ModelPack;
  let opened: OpenedPack;
  let plainUnet: Awaited<ReturnType<Runtime['open']>>;

  beforeAll(async () => {
    pack = await loadPack(SDXL, { verifyHashes: true });
    opened = await openPack(pack, runtime, { csa: true });
    plainUnet = await runtime.open(pack.file('unet'), 'unet');
  });
  afterAll(() => runtime.dispose());

  it('patches every attn1 of the decoder half, several transformer blocks per attention', () => {
    const m = pack.manifest;
    const layers = opened.csa!.layers;
    expect(layers.map((l) => l.name)).toEqual(m.csa!.layers);
    expect(layers).toHaveLength(3 * 3 + 3 * 2); // up_blocks.0: 3 attentions x 3 blocks; up_blocks.1: 3 x 2
    expect(layers.map((l) => l.name)).toContain('up_blocks.0.attentions.2.transformer_blocks.2.attn1');
    expect(layers.map((l) => l.name)).toContain('up_blocks.1.attentions.0.transformer_blocks.1.attn1');
    expect(layers.every((l) => l.name.startsWith('up_blocks.') && l.keyCheck.verified && l.valueCheck.verified)).toBe(true);
    expect(new Set(layers.map((l) => l.tokens))).toEqual(new Set([6 * 4, 12 * 8])); // 24 x 16 latents halved twice / once
    expect(opened.csa!.skipped.every((n) => !n.startsWith('up_blocks.'))).toBe(true);
    for (const l of layers) {
      expect(opened.unet.input(l.names.index)).toBeDefined();
      expect(opened.unet.output(l.names.tokens)).toBeDefined();
    }
    expect(opened.textEncoder2).toBeDefined();
  });

  it('checks the SDXL inputs against the manifest, with both numbers', () => {
    const m = pack.manifest;
    const sessions = { textEncoder: opened.textEncoder, textEncoder2: opened.textEncoder2!, unet: plainUnet, vaeDecoder: opened.vaeDecoder! };
    expect(() => checkPackSessions(m, sessions)).not.toThrow();
    expect(() => checkPackSessions({ ...m, text2: { ...m.text2!, pooled: { output: 'text_embeds', size: 1280 } } }, sessions))
      .toThrow('text_encoder_2: output text_embeds has shape [batch, 40], the manifest implies [?, 1280] (dimension 1)');
    expect(() => checkPackSessions({ ...m, text2: { ...m.text2!, hiddenState: 'hidden_states.31' } }, sessions))
      .toThrow(/text_encoder_2: no output named hidden_states\.31; the model has text_embeds, last_hidden_state, hidden_states\.0/);
    // The UNet's context is both encoders' widths side by side: 32 + 48.
    const wide = { inputs: plainUnet.inputs.map((i) => (i.name === 'encoder_hidden_states' ? { ...i, shape: ['batch', 77, 2048] } : i)), outputs: plainUnet.outputs };
    expect(() => checkPackSessions(m, { ...sessions, unet: wide }))
      .toThrow('unet: input encoder_hidden_states has shape [batch, 77, 2048], the manifest implies [?, 77, 80] (dimension 2)');
    expect(() => checkPackSessions({ ...m, addTimeIds: { ...m.addTimeIds!, order: ['target_height', 'target_width'] } }, sessions))
      .toThrow(/unet: input time_ids has shape \[batch, 6\], the manifest implies \[\?, 2\]/);
    const { text2: _t, addTimeIds: _a, ...sd15Like } = m;
    expect(() => checkPackSessions({ ...sd15Like, text: { ...m.text, hiddenSize: 80 } }, { ...sessions, textEncoder: { inputs: opened.textEncoder.inputs, outputs: opened.textEncoder.outputs.map((o) => (o.name === 'hidden_states.1' ? { ...o, shape: ['batch', 77, 80] } : o)) } }))
      .toThrow('unet: takes text_embeds and time_ids (an SDXL UNet), but the manifest has no text_2 and add_time_ids to feed them (see docs/engine.md)');
    const { textEncoder2: _e, ...withoutSecond } = sessions;
    expect(() => checkPackSessions(m, withoutSecond)).toThrow('text_encoder_2: the manifest describes text_2 but no session was opened for it');
  });

  it('encodes prompts as PyTorch does: both tokenizers, penultimate layers side by side, pooled from the second (1e-4)', async () => {
    // The recorded numbers are the raw encoders' outputs; zeroing of empty negatives is checked below.
    const conditioning = await openConditioning({ ...pack, manifest: { ...pack.manifest, forceZerosForEmptyPrompt: false } }, opened);
    const feeds = await conditioning.encode([ref.prompts[0]!], [ref.prompts[1]!], imageSize(pack.manifest));
    const context = feeds.encoder_hidden_states as Float32Tensor;
    expect(context.dims).toEqual([2, 77, 80]);
    expect(maxAbsDiff(context.data, recorded(ref.context).data)).toBeLessThanOrEqual(1e-4);
    const pooled = feeds.text_embeds as Float32Tensor;
    expect(pooled.dims).toEqual([2, 40]);
    expect(maxAbsDiff(pooled.data, recorded(ref.text_embeds).data)).toBeLessThanOrEqual(1e-4);
    expect(feeds.time_ids!.dims).toEqual([2, 6]);
    expect(Array.from(feeds.time_ids!.data as Float32Array)).toEqual([192, 128, 0, 0, 192, 128, 192, 128, 0, 0, 192, 128]);
  });

  it('tokenizes with "!" padding for the second encoder, as the recorded ids', async () => {
    const m = pack.manifest;
    const one = await loadTokenizer(pack.file('tokenizer'), { kind: 'clip-bpe', maxLength: 77, padToken: m.text.padToken! });
    const two = await loadTokenizer(pack.file('tokenizer_2'), { kind: 'clip-bpe', maxLength: 77, padToken: m.text2!.padToken! });
    expect(ref.prompts.map((p) => one.encode(p))).toEqual(ref.input_ids);
    expect(ref.prompts.map((p) => two.encode(p))).toEqual(ref.input_ids_2);
  });

  it('gives an empty negative prompt zero embeddings when the manifest asks (force_zeros_for_empty_prompt)', async () => {
    const conditioning = await openConditioning(pack, opened);
    const feeds = await conditioning.encode(['', 'blurry'], ['a girl', 'a boy'], imageSize(pack.manifest));
    const context = feeds.encoder_hidden_states as Float32Tensor;
    const per = 77 * 80;
    expect(context.data.subarray(0, per).every((v) => v === 0)).toBe(true);
    expect(context.data.subarray(per, 2 * per).some((v) => v !== 0)).toBe(true);
    const pooled = feeds.text_embeds as Float32Tensor;
    expect(pooled.data.subarray(0, 40).every((v) => v === 0)).toBe(true);
    expect(pooled.data.subarray(40).some((v) => v !== 0)).toBe(true);
  });

  it('runs the exported UNet as PyTorch does (1e-4): the export, not the weights, is what is checked', async () => {
    const u = ref.unet;
    const feeds: Record<string, Tensor> = {
      sample: recorded(u.sample),
      timestep: int64([2], u.timestep),
      encoder_hidden_states: recorded(ref.context),
      text_embeds: recorded(ref.text_embeds),
      time_ids: float32([2, 6], u.time_ids.flat()),
    };
    const expected = recorded(u.out_sample);
    const plain = (await plainUnet.run(feeds)).out_sample as Float32Tensor;
    expect(plain.dims).toEqual(expected.dims);
    expect(maxAbsDiff(plain.data, expected.data)).toBeLessThanOrEqual(1e-4);
    // Patched, with no extra tokens, the UNet is the original one.
    const patched = (await opened.unet.run({ ...feeds, ...plainCsaFeeds(opened.csa!.layers, 2) }, { outputs: ['out_sample'] })).out_sample as Float32Tensor;
    expect(maxAbsDiff(patched.data, plain.data)).toBeLessThanOrEqual(1e-5);
  });
});

describe('CSA token counts from the UNet structure (no self_attention list needed)', () => {
  it.each([['sd15-tiny'], ['sdxl-tiny']])('derives every attn1 layer of the %s UNet as its manifest lists it', (name) => {
    const dir = join(ROOT, 'models/packs', name);
    const m = parseManifest(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')));
    const bytes = readFileSync(join(dir, 'unet.onnx'));
    const { patch } = patchCsaModel(bytes, { blockPrefixes: ['down_blocks.', 'mid_block.', 'up_blocks.'], sample: m.sample });
    expect(patch.layers.map((l) => [l.name, l.tokens])).toEqual(m.selfAttention.map((l) => [l.name, l.tokens]));
    // At another size (SDXL's 1024 px grid is 128 x 128; odd sizes round up at each halving).
    const big = patchCsaModel(bytes, { sample: { height: 128, width: 120 } }).patch.layers;
    const up = big.find((l) => l.name.startsWith('up_blocks.1.'))!;
    expect(up.tokens).toBe(name === 'sdxl-tiny' ? 64 * 60 : 32 * 30);
    expect(patchCsaModel(bytes, {}).patch.layers.every((l) => l.tokens === null)).toBe(true);
  });
});

describe('an operator-style SDXL manifest (no self_attention, no csa section)', () => {
  it('opens with the decoder half patched and every token count derived', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sdxl-'));
    const runtime = new Runtime({ intraOpThreads: 2, interOpThreads: 1 });
    try {
      cpSync(SDXL, dir, { recursive: true });
      const r = raw();
      const listed = new Map((r.self_attention as { name: string; tokens: number }[]).map((l) => [l.name, l.tokens]));
      delete r.self_attention;
      delete r.csa;
      delete r.sha256;
      writeFileSync(join(dir, 'manifest.json'), JSON.stringify(r));
      const opened = await openPack(await loadPack(dir), runtime, { csa: true });
      const layers = opened.csa!.layers;
      expect(layers.map((l) => l.name)).toEqual(raw().csa.layers);
      expect(layers.map((l) => l.tokens)).toEqual(layers.map((l) => listed.get(l.name)));
    } finally {
      await runtime.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
