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
import type { ResolvedStyle, StyleService } from '../styles/style.service';

export interface FrameWarning extends PromptWarning {
  frameId: string;
  position: number;
}

export class PromptPreview {
  /** Styles already looked up by a request: a story's frames listed with their warnings ask once, not per frame. */
  private readonly looked = new WeakMap<TenantSession, Map<string, Promise<ResolvedStyle | null>>>();

  constructor(private readonly packs: PackRegistry, private readonly styles: StyleService) {}

  private styleOf(session: TenantSession, name: string): Promise<ResolvedStyle | null> {
    let byName = this.looked.get(session);
    if (!byName) this.looked.set(session, (byName = new Map()));
    let style = byName.get(name);
    if (!style) byName.set(name, (style = this.styles.resolve(session, name)));
    return style;
  }

  /** `cast`: the story's cast in order. A story whose pack is gone has nothing to say (its jobs are refused). */
  async warnings(session: TenantSession, story: Story, frames: readonly Frame[], cast: readonly Character[]): Promise<FrameWarning[]> {
    const pack = this.packs.get(story.model);
    if (!pack) return [];
    const meter = await this.packs.tokenizer(pack);
    const style = await this.styleOf(session, story.style);
    return [...frames].sort((a, b) => a.position - b.position).flatMap((f) => {
      const shown = f.noCharacter ? [] : f.characterIds ? cast.filter((c) => f.characterIds!.includes(c.id)) : cast;
      return framePrompt(f, shown, style, pack, meter).warnings.map((w) => ({ ...w, frameId: f.id, position: f.position }));
    });
  }
}
