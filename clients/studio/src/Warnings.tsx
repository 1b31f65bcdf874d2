/** What prompts lose on the way to the model (truncated, shortened, unknown words, style without effect). */
import type { WarningFragment } from './generated/graphql';

interface Props {
  warnings: readonly WarningFragment[];
  title?: string;
  /** One line of codes and lost words (a frame card; the story lists the messages in full). */
  compact?: boolean;
}

export function Warnings({ warnings, title, compact = false }: Props) {
  if (warnings.length === 0) return null;
  if (compact) {
    return (
      <p className="warnings compact">
        {warnings.map((w, i) => (
          <span key={i} data-code={w.code} title={w.message}>
            <code className="warning-code">{w.code}</code>{w.words.length > 0 && `: ${w.words.join(', ')}`}
          </span>
        ))}
      </p>
    );
  }
  return (
    <div className="warnings">
      {title && <h3>{title}</h3>}
      <ul>
        {warnings.map((w, i) => (
          <li key={i} data-code={w.code}>
            <code className="warning-code">{w.code}</code>
            {w.position != null && <span className="warning-frame"> frame {w.position}:</span>} {w.message}
          </li>
        ))}
      </ul>
    </div>
  );
}
