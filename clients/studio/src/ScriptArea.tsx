/** A script textarea with line numbers, so "line 3: …" from the API points somewhere visible. */
import { useRef } from 'react';

interface Props {
  name: string;
  value: string;
  onChange(value: string): void;
  placeholder?: string;
  /** The line the API refused, marked in the gutter. */
  errorLine: number | null;
  rows: number;
}

export function ScriptArea({ name, value, onChange, placeholder, errorLine, rows }: Props) {
  const gutter = useRef<HTMLOListElement>(null);
  const lines = Math.max(value.split('\n').length, rows);

  return (
    <div className="script-area">
      <ol className="gutter" ref={gutter} aria-hidden="true">
        {Array.from({ length: lines }, (_, i) => (
          <li key={i} className={errorLine === i + 1 ? 'bad' : undefined}>{i + 1}</li>
        ))}
      </ol>
      <textarea name={name} rows={rows} spellCheck={false} wrap="off" value={value} placeholder={placeholder}
        onChange={(e) => onChange(e.target.value)}
        onScroll={(e) => { if (gutter.current) gutter.current.scrollTop = e.currentTarget.scrollTop; }} />
    </div>
  );
}
