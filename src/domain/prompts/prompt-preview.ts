/**
 * The warnings a render of each frame would record now, for studio tools to show while the
 * user types (createStory, addFrames, updateFrame and the story's and frame's fields).
 */
import type { Character } from '../../db/entities/character.entity';
import type { Frame } from '../../db/entities/frame.entity';
import type { Story } from '../../db/entities/story.entity';
import type { PackRegistry } from '../../packs/pack-registry';
import { framePrompt } from '../jobs/prompts';
import type { PromptWarning } from './prompt-warnings';
import type { TenantSession } from '../../db/tenant-session';
import type { StyleService } from '../styles/style.service';

export interface FrameWarning extends PromptWarning {
  frameId: string;
  position: number;
}

export class PromptPreview {
  constructor(private readonly packs: PackRegistry, private readonly styles: StyleService) {}

  /** `cast`: the story's cast in order. A story whose pack is gone has nothing to say (its jobs are refused). */
  async warnings(session: TenantSession, story: Story, frames: readonly Frame[], cast: readonly Character[]): Promise<FrameWarning[]> {
    const pack = this.packs.get(story.model);
    if (!pack) return [];
    const meter = await this.packs.tokenizer(pack);
    const style = await this.styles.resolve(session, story.style);
    return [...frames].sort((a, b) => a.position - b.position).flatMap((f) => {
      const shown = f.noCharacter ? [] : f.characterIds ? cast.filter((c) => f.characterIds!.includes(c.id)) : cast;
      return framePrompt(f, shown, style, pack, meter).warnings.map((w) => ({ ...w, frameId: f.id, position: f.position }));
    });
  }
}
