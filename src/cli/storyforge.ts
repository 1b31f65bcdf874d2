/**
 * The storyforge command: a thin dispatcher. Each command's module is loaded only when that
 * command runs, so `generate` does not load the server and database stack and the server
 * commands do not load ONNX Runtime and sharp.
 */
import type { Config } from '../config';
import { Logger } from '../util/logger';
import { StartupError } from '../util/startup-error';

const USAGE = `usage: storyforge <command>
  demo      start the server (embedded PostgreSQL when DATABASE_URL is unset), create a demo
            project if there is none, print an admin key and the GraphQL URL
  serve     start the server (same as npm start)
  worker    run generation workers without HTTP (STORYFORGE_WORKERS threads), sharing the database
  migrate   apply pending migrations and exit
  generate  render a story script with consistent characters to PNGs and a contact sheet
            (storyforge generate --help)
  help      this text (also -h, --help)`;

async function serverCommand(name: string, config: Config, log: Logger): Promise<void> {
  switch (name) {
    case 'serve': {
      const { startApp, stopOnSignals } = require('../app') as typeof import('../app');
      const app = await startApp(config, log);
      stopOnSignals(app, log, config.shutdownTimeoutMs);
      return;
    }
    case 'worker': {
      const { runWorker } = require('./worker') as typeof import('./worker');
      await runWorker(config, log);
      return;
    }
    case 'migrate': {
      const { openDatabase } = require('../db/database') as typeof import('../db/database');
      const database = await openDatabase(config, log);
      await database.close();
      return;
    }
  }
}

async function main(argv: string[]): Promise<void> {
  const command = argv[0];
  if (command === 'generate') {
    const { runGenerate } = require('./generate') as typeof import('./generate');
    process.exitCode = await runGenerate(argv.slice(1));
    return;
  }
  if (command === 'demo') {
    // People read the demo's terminal: its JSON log goes to a file, warnings and errors also to stderr.
    const { loadConfig } = require('../config') as typeof import('../config');
    const { demoLog } = require('./demo-log') as typeof import('./demo-log');
    const { runDemo } = require('./demo') as typeof import('./demo');
    const config = loadConfig();
    const { log, path } = demoLog(config.dataDir, config.logLevel);
    process.stdout.write(`Starting StoryForge (database, migrations, model packs) ...\n`);
    await runDemo(config, log, path);
    return;
  }
  if (command === 'serve' || command === 'worker' || command === 'migrate') {
    const { loadConfig } = require('../config') as typeof import('../config');
    const config = loadConfig();
    await serverCommand(command, config, new Logger(config.logLevel, { service: 'storyforge' }));
    return;
  }
  if (command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(USAGE + '\n');
    return;
  }
  process.stderr.write(USAGE + '\n');
  process.exitCode = command ? 2 : 0;
}

main(process.argv.slice(2)).catch((error) => {
  // A refusal that says what to do (StartupError) is that one line on stderr; anything else is logged.
  if (error instanceof StartupError) process.stderr.write(error.message + '\n');
  else new Logger('error').error('storyforge failed', { error });
  process.exit(1);
});
