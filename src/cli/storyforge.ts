import { startApp, stopOnSignals } from '../app';
import { loadConfig } from '../config';
import { openDatabase } from '../db/database';
import { Logger } from '../util/logger';
import { runDemo } from './demo';

const USAGE = `usage: storyforge <command>
  demo      start the server (embedded PostgreSQL when DATABASE_URL is unset), create a demo
            project if there is none, print an admin key and the GraphQL URL
  serve     start the server (same as npm start)
  migrate   apply pending migrations and exit`;

async function main(argv: string[]): Promise<void> {
  const config = loadConfig();
  const log = new Logger(config.logLevel, { service: 'storyforge' });
  switch (argv[0]) {
    case 'demo':
      await runDemo(config, log);
      return;
    case 'serve': {
      const app = await startApp(config, log);
      stopOnSignals(app, log, config.shutdownTimeoutMs);
      return;
    }
    case 'migrate': {
      const database = await openDatabase(config, log);
      await database.close();
      return;
    }
    default:
      process.stderr.write(USAGE + '\n');
      process.exitCode = argv[0] ? 2 : 0;
  }
}

main(process.argv.slice(2)).catch((error) => {
  new Logger('error').error('storyforge failed', { error });
  process.exit(1);
});
