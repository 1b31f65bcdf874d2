/**
 * The PyTorch reference sampler in a child process (bench/engine/torch_driver.py), driven
 * one request at a time so its runs can be interleaved with the engine's.
 */
import { ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createInterface, Interface } from 'node:readline';
import { join } from 'node:path';
import { projectRoot } from '../../src/util/project-root';

export interface TorchRequest {
  op: 'plain' | 'identity' | 'read';
  prompts: string[];
  seeds: number[];
  steps: number;
  guidance: number;
  rate?: number;
  csaSeed?: number;
  /** identity only: keep the bank for later reads. */
  keep?: boolean;
}

export interface TorchInfo {
  step: number | null;
  loadSeconds: number;
  torch: string;
  threads: number;
}

export class TorchReference {
  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    private readonly lines: AsyncIterator<string>,
    private readonly rl: Interface,
    readonly info: TorchInfo,
  ) {}

  static async start(python: string, checkpoint: string, threads: number): Promise<TorchReference> {
    const script = join(projectRoot(), 'bench', 'engine', 'torch_driver.py');
    const child = spawn(python, [script, checkpoint, String(threads)], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const rl = createInterface({ input: child.stdout });
    const lines = rl[Symbol.asyncIterator]();
    const first = await lines.next();
    if (first.done) throw new Error(`the PyTorch driver stopped before it was ready:\n${stderr.trim()}`);
    const ready = JSON.parse(first.value) as { step: number | null; load_seconds: number; torch: string; threads: number };
    return new TorchReference(child, lines, rl, { step: ready.step, loadSeconds: ready.load_seconds, torch: ready.torch, threads: ready.threads });
  }

  private async ask(message: object): Promise<Record<string, unknown>> {
    this.child.stdin.write(JSON.stringify(message) + '\n');
    const line = await this.lines.next();
    if (line.done) throw new Error('the PyTorch driver stopped');
    const reply = JSON.parse(line.value) as Record<string, unknown>;
    if (typeof reply.error === 'string') throw new Error(`PyTorch driver: ${reply.error}`);
    return reply;
  }

  /** Seconds the sampler took (model already loaded; process start not counted). */
  async time(r: TorchRequest): Promise<number> {
    const reply = await this.ask({ op: r.op, prompts: r.prompts, seeds: r.seeds, steps: r.steps, guidance: r.guidance,
      rate: r.rate ?? 0.5, csa_seed: r.csaSeed ?? 0, keep: r.keep ?? false });
    return reply.seconds as number;
  }

  async maxRssKb(): Promise<number> {
    return (await this.ask({ op: 'rss' })).max_rss_kb as number;
  }

  async close(): Promise<void> {
    this.child.stdin.write(JSON.stringify({ op: 'quit' }) + '\n');
    this.child.stdin.end();
    this.rl.close();
    await new Promise<void>((done) => (this.child.exitCode !== null ? done() : this.child.once('exit', () => done())));
  }
}
