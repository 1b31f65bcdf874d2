/**
 * Style presets: the built-in ones and a project's own. A story names one (stories.style); the
 * name is looked up when the story is written (unknown: BAD_USER_INPUT) and when it renders.
 */
import { Style } from '../../db/entities/style.entity';
import type { TenantSession } from '../../db/tenant-session';
import { badInput, conflict, isUniqueViolation, notFound } from '../common/errors';
import { LIMITS, optionalText, requiredText } from '../common/validation';
import { BUILT_IN_STYLES, StylePreset, builtInStyle } from './built-in-styles';

export interface ResolvedStyle extends StylePreset {
  /** The project style's id; null for a built-in one. */
  id: string | null;
}

export interface StyleInput {
  name?: string | null;
  template?: string | null;
  negativePrompt?: string | null;
  families?: readonly string[] | null;
}

const NAME_KEY = 'styles_project_name_key';

export class StyleService {
  /** Built-in styles first, then the project's, by name. */
  async list(session: TenantSession): Promise<ResolvedStyle[]> {
    const own = await session.rows(Style, `SELECT * FROM styles ORDER BY lower(name)`);
    return [...BUILT_IN_STYLES.map((s) => ({ ...s, id: null })), ...own.map(fromRow)];
  }

  /** The style a story names; '' is none. Built-in names win (a project cannot take one). */
  async resolve(session: TenantSession, name: string): Promise<ResolvedStyle | null> {
    if (name.trim() === '') return null;
    const builtIn = builtInStyle(name.trim());
    if (builtIn) return { ...builtIn, id: null };
    const own = await session.one(Style, `SELECT * FROM styles WHERE lower(name) = lower($1)`, [name.trim()]);
    return own ? fromRow(own) : null;
  }

  /** The stored name of the style `name` refers to (its canonical spelling), or BAD_USER_INPUT. */
  async check(session: TenantSession, name: string, field = 'style'): Promise<string> {
    if (name.trim() === '') return '';
    const style = await this.resolve(session, name);
    if (!style) {
      const known = (await this.list(session)).map((s) => s.name).join(', ');
      throw badInput(field, `there is no style named "${name.trim()}" (styles: ${known}); createStyle makes one`);
    }
    return style.name;
  }

  async create(session: TenantSession, input: StyleInput): Promise<Style> {
    const name = requiredText('name', input.name ?? '', LIMITS.nameLength);
    if (builtInStyle(name)) throw conflict('name', `"${name}" is a built-in style`);
    const template = requiredText('template', input.template ?? '', LIMITS.promptLength);
    if (!template.includes('{prompt}')) throw badInput('template', 'the template must contain {prompt}, where the frame\'s prompt goes');
    const negative = optionalText('negativePrompt', input.negativePrompt ?? '', LIMITS.negativePromptLength);
    const families = [...new Set((input.families ?? []).map((f) => requiredText('families', f, LIMITS.modelLength)))];
    return session.atomically(async () => {
      try {
        return (await session.one(Style, `INSERT INTO styles (project_id, name, template, negative_prompt, families) VALUES ($1, $2, $3, $4, $5) RETURNING *`,
          [session.projectId, name, template, negative, families]))!;
      } catch (error) {
        if (isUniqueViolation(error, NAME_KEY)) throw conflict('name', `a style named "${name}" already exists`);
        throw error;
      }
    });
  }

  /** Refused (CONFLICT) while a story uses it: its frames would lose their look silently. */
  async delete(session: TenantSession, id: string): Promise<void> {
    await session.atomically(async () => {
      const style = await session.one(Style, `SELECT * FROM styles WHERE id = $1 FOR UPDATE`, [id]);
      if (!style) throw notFound('id', 'style');
      const [{ count }] = await session.query<{ count: number }>(`SELECT count(*)::int AS count FROM stories WHERE lower(style) = lower($1)`, [style.name]);
      if (count > 0) throw conflict('id', `${count} ${count === 1 ? 'story uses' : 'stories use'} the style; change ${count === 1 ? 'it' : 'them'} first`);
      await session.query(`DELETE FROM styles WHERE id = $1`, [id]);
    });
  }
}

function fromRow(s: Style): ResolvedStyle {
  return { id: s.id, name: s.name, template: s.template, negativePrompt: s.negativePrompt, families: s.families };
}
