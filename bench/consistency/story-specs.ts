/** The model card's stories, as bench/consistency/make_specs.py recorded them from evaluate.py. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../src/util/project-root';

export interface SpecFrame {
  prompt: string;
  seed: number;
  /** Head -> label asked for: pose, scene and the named identity attributes. */
  asked: Record<string, string>;
}

export interface EvaluateDefaults {
  stories: number;
  steps: number;
  guidance: number;
  rate: number;
  id_frames: number;
  threads: number;
  rows: string;
}

export interface StorySpecs {
  defaults: EvaluateDefaults;
  framesPerStory: number;
  csaSeedBase: number;
  /** named attributes (0 or 2) -> stories -> frames. */
  sets: Record<string, SpecFrame[][]>;
}

// From the project root: the built bench runs from dist/, where the JSON is not copied.
export const SPECS_FILE = join(projectRoot(), 'bench', 'consistency', 'model-card-stories.json');

export function loadStorySpecs(path = SPECS_FILE): StorySpecs {
  const raw = JSON.parse(readFileSync(path, 'utf8')) as {
    defaults: EvaluateDefaults; frames_per_story: number; csa_seed_base: number;
    sets: Record<string, Array<Array<[string, number, Record<string, string>]>>>;
  };
  const sets: StorySpecs['sets'] = {};
  for (const [named, stories] of Object.entries(raw.sets)) {
    sets[named] = stories.map((frames) => frames.map(([prompt, seed, asked]) => ({ prompt, seed, asked })));
  }
  return { defaults: raw.defaults, framesPerStory: raw.frames_per_story, csaSeedBase: raw.csa_seed_base, sets };
}
