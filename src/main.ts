import { startApp, stopOnSignals } from './app';
import { loadConfig } from './config';
import { Logger } from './util/logger';

/** `npm start`: the API server, configured from the environment. */
async function main(): Promise<void> {
  const config = loadConfig();
  const log = new Logger(config.logLevel, { service: 'storyforge' });
  if (!config.platformKey) log.warn('STORYFORGE_PLATFORM_KEY is unset: createProject is unavailable');
  const app = await startApp(config, log);
  stopOnSignals(app, log, config.shutdownTimeoutMs);
}

main().catch((error) => {
  new Logger('error').error('failed to start', { error });
  process.exit(1);
});
