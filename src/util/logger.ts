import type { LogLevel } from '../config';

const order: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Field names whose values are never written, whatever the caller passes. */
const SECRET_FIELD = /(secret|password|authorization|token|platformkey|^key$|cookie)/i;

export type LogFields = Record<string, unknown>;
export type LogSink = (line: string) => void;

/** One JSON object per line on stdout; secrets are redacted by field name and by URL password. */
export class Logger {
  constructor(
    private readonly level: LogLevel = 'info',
    private readonly base: LogFields = {},
    private readonly sink: LogSink = (line) => process.stdout.write(line + '\n'),
  ) {}

  child(fields: LogFields): Logger {
    return new Logger(this.level, { ...this.base, ...fields }, this.sink);
  }

  debug(msg: string, fields?: LogFields): void { this.write('debug', msg, fields); }
  info(msg: string, fields?: LogFields): void { this.write('info', msg, fields); }
  warn(msg: string, fields?: LogFields): void { this.write('warn', msg, fields); }
  error(msg: string, fields?: LogFields): void { this.write('error', msg, fields); }

  private write(level: LogLevel, msg: string, fields?: LogFields): void {
    if (order[level] < order[this.level]) return;
    const record = redact({ time: new Date().toISOString(), level, msg, ...this.base, ...fields });
    this.sink(JSON.stringify(record));
  }
}

export function redact(value: unknown, depth = 0): any {
  if (depth > 6) return '[deep]';
  if (value instanceof Error) {
    return { name: value.name, message: redactText(value.message), code: (value as { code?: unknown }).code };
  }
  if (typeof value === 'string') return redactText(value);
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = SECRET_FIELD.test(k) ? '[redacted]' : redact(v, depth + 1);
    return out;
  }
  return value;
}

/** Strips URL passwords and anything shaped like one of our keys from free text. */
export function redactText(text: string): string {
  return text
    .replace(/(\w+:\/\/[^:/@\s]+:)[^@\s]+@/g, '$1[redacted]@')
    .replace(/\bsf[kp]_[A-Za-z0-9_-]{8,}/g, '[redacted-key]');
}
