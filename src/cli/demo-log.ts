/**
 * The demo's log: every JSON line to a file under the data directory, so the terminal stays for
 * people; warnings and errors also as one readable line on stderr, so nothing that went wrong
 * is only in the file.
 */
import { mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { LogLevel } from '../config';
import { Logger } from '../util/logger';

export interface DemoLog {
  log: Logger;
  path: string;
}

export function demoLog(dataDir: string, level: LogLevel, stderr: { write(text: string): unknown } = process.stderr): DemoLog {
  const dir = join(dataDir, 'logs');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'storyforge.log');
  // Written at once, not through a stream: the process exits right after its last lines (shutdown).
  const file = openSync(path, 'a');
  const log = new Logger(level, { service: 'storyforge' }, (line) => {
    writeSync(file, line + '\n');
    const record = JSON.parse(line) as { level: string; msg: string; error?: { message?: string } | string };
    if (record.level !== 'warn' && record.level !== 'error') return;
    const cause = typeof record.error === 'string' ? record.error : record.error?.message;
    stderr.write(`${record.level === 'warn' ? 'warning' : 'error'}: ${record.msg}${cause ? ` (${cause})` : ''}\n`);
  });
  return { log, path };
}
