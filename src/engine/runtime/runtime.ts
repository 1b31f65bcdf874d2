/**
 * Owns every session the engine opened with one configuration, so a pipeline (or a worker
 * that shuts down) releases all of them with one `dispose()`.
 */
import { ModelSession, OpenOptions } from './model-session';
import { RuntimeConfig, runtimeConfig } from './runtime-config';

export class Runtime {
  readonly config: RuntimeConfig;
  private readonly sessions = new Set<ModelSession>();

  constructor(config: Partial<RuntimeConfig> = {}) {
    this.config = runtimeConfig(config);
  }

  async open(model: string | Uint8Array, label?: string, options?: OpenOptions): Promise<ModelSession> {
    const s = await ModelSession.create(model, this.config, label, options);
    this.sessions.add(s);
    return s;
  }

  get openSessions(): number {
    return this.sessions.size;
  }

  async dispose(): Promise<void> {
    const all = [...this.sessions];
    this.sessions.clear();
    await Promise.all(all.map((s) => s.dispose()));
  }
}
