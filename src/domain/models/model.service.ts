/**
 * The model packs a client can choose from, described for a form: sizes, schedulers, ranges,
 * the prompt budget, CSA, and whether a worker is alive to take its jobs.
 */
import { SCHEDULER_NAMES, SchedulerName } from '../../engine/schedulers';
import { workersByPack } from '../../queue/worker-registry';
import type { TenantSession } from '../../db/tenant-session';
import { PackInfo, PackRegistry, displayUpscales } from '../../packs/pack-registry';
import type { ImageSize } from '../../engine/pack';
import { GUIDANCE_RANGE, STEP_RANGE } from '../stories/story-settings';

export interface ModelSizes {
  rule: 'MULTIPLE' | 'BUCKETS' | 'UPSCALE';
  native: ImageSize;
  default: ImageSize;
  multipleOf: number | null;
  min: number | null;
  max: number | null;
  sizes: ImageSize[] | null;
}

export interface ModelDescription {
  id: string;
  family: string;
  description: string | null;
  isDefault: boolean;
  sizes: ModelSizes;
  schedulers: readonly SchedulerName[];
  defaultScheduler: SchedulerName;
  steps: { min: number; max: number; default: number };
  guidance: { min: number; max: number; default: number };
  promptTokens: number;
  hasJudge: boolean;
  csa: { layers: string[]; defaultRate: number; identityWrite: string } | null;
  workersOnline: number;
  available: boolean;
}

export class ModelService {
  constructor(private readonly packs: PackRegistry, private readonly defaultModel: string, private readonly heartbeatSeconds: number) {}

  async list(session: TenantSession): Promise<ModelDescription[]> {
    const live = await workersByPack(session, this.heartbeatSeconds);
    return Promise.all(this.packs.all.map(async (pack) => {
      const tokenizer = await this.packs.tokenizer(pack);
      const workers = live.get(pack.name) ?? 0;
      const m = pack.manifest;
      return {
        id: pack.name,
        family: pack.family,
        description: m.description,
        isDefault: pack.name === this.defaultModel,
        sizes: sizes(pack),
        schedulers: SCHEDULER_NAMES,
        defaultScheduler: m.defaults.scheduler,
        steps: { ...STEP_RANGE, default: m.defaults.steps },
        guidance: { ...GUIDANCE_RANGE, default: m.defaults.guidance },
        promptTokens: tokenizer.budget,
        hasJudge: pack.hasJudge,
        csa: m.csa && { layers: m.csa.layers, defaultRate: m.csa.defaultRate, identityWrite: m.csa.identityWrite.toUpperCase() },
        workersOnline: workers,
        available: workers > 0,
      };
    }));
  }
}

function sizes(pack: PackInfo): ModelSizes {
  const rule = pack.manifest.sizes;
  const base = { native: pack.native, default: { width: pack.width, height: pack.height }, multipleOf: null, min: null, max: null, sizes: null };
  switch (rule.kind) {
    case 'multiple': return { ...base, rule: 'MULTIPLE', multipleOf: rule.multipleOf, min: rule.min, max: rule.max };
    case 'buckets': return { ...base, rule: 'BUCKETS', sizes: rule.buckets };
    case 'native': return { ...base, rule: 'UPSCALE', sizes: displayUpscales(pack).map((k) => ({ width: pack.native.width * k, height: pack.native.height * k })) };
  }
}
