import { startApp, stopOnSignals } from './app';
import { loadConfig } from './config';
import { Logger } from './util/logger';
import { StartupError } from './util/startup-error';

/** `npm start`: the API server, configured from the environment. */
async function main(): Promise<void> {
  const config = loadConfig();
  const log = new Logger(config.logLevel, { service: 'storyforge' });
  if (!config.platformKey) log.warn('STORYFORGE_PLATFORM_KEY is unset: createProject is unavailable');
  const app = await startApp(config, log);
  stopOnSignals(app, log, config.shutdownTimeoutMs);
}

main().catch((error) => {
  // A refusal that says what to do (StartupError) is that one line on stderr; anything else is logged.
  if (error instanceof StartupError) process.stderr.write(error.message + '\n');
  else new Logger('error').error('failed to start', { error });
  process.exit(1);
});
