import { startApp, stopOnSignals } from '../app';
import type { Config } from '../config';
import { withTenant } from '../db/tenant-session';
import { generateSecret } from '../domain/api-keys/key-secret';
import type { Logger } from '../util/logger';
import { resolve } from 'node:path';
import { DEMO_STORY_TITLE, generateDemoStory } from './demo-story';
import { ProgressReporter } from './progress';

const DEMO_PROJECT = 'Demo';

const DEMO_SCRIPT = `[Mira] wakes up in a small house at dawn #Mira wakes up early.
[Mira] walks through a pine forest, holding a lantern #The forest is quiet.
[Mira] [Tomo] meet at an old stone bridge #A stranger waits on the bridge.
[NC] a treasure chest glowing in a cave #Something shines in the dark.
[Tomo] points at a map on a wooden table #Tomo knows the way.`;

/**
 * The main job: start everything, make sure a demo project with some content exists, and print
 * what a person needs, the studio first. Secrets go to the terminal once, never into the log.
 */
export async function runDemo(config: Config, log: Logger, logPath?: string): Promise<void> {
  const platformKeyGenerated = !config.platformKey;
  const runConfig = { ...config, platformKey: config.platformKey ?? generateSecret('platform') };
  const app = await startApp(runConfig, log);
  stopOnSignals(app, log, config.shutdownTimeoutMs);

  const { projects, characters, stories } = app.api.services;
  const existing = await projects.findByName(DEMO_PROJECT);
  let projectId: string;
  let secret: string;
  if (existing) {
    projectId = existing.id;
    secret = (await projects.issueAdminKey(projectId, `demo ${new Date().toISOString()}`)).secret;
  } else {
    const created = await projects.create({ name: DEMO_PROJECT });
    projectId = created.project.id;
    secret = created.secret;
    await withTenant(app.database.dataSource, projectId, async (session) => {
      const mira = await characters.create(session, {
        name: 'Mira', description: 'a girl with short red hair, a green shirt and blue trousers', seed: 7,
      });
      const tomo = await characters.create(session, {
        name: 'Tomo', description: 'a boy with black hair, a yellow hat and a white shirt', seed: 11,
      });
      await stories.create(session, { title: 'The Lantern', characterIds: [mira.id, tomo.id], script: DEMO_SCRIPT, seed: 42 });
    });
    log.info('demo project created', { projectId });
  }

  const origin = app.url.replace(/\/graphql$/, '');
  const lines = [
    `StoryForge studio:  ${origin}/   (log in with the admin key below)`,
    '',
    `  Admin API key:    ${secret}   (project "${DEMO_PROJECT}"; shown once)`,
    platformKeyGenerated
      ? `  Platform key:     ${runConfig.platformKey}   (made for this run; set STORYFORGE_PLATFORM_KEY to keep one)`
      : '  Platform key:     from STORYFORGE_PLATFORM_KEY',
    `  GraphQL:          ${app.url}`,
    ...(config.graphiql ? [`  GraphiQL:         ${origin}/graphiql`] : []),
    ...(logPath ? [`  Logs (JSON):      ${logPath}`] : []),
    '',
    'Try:',
    `  curl -s ${app.url} -H 'content-type: application/json' -H 'authorization: Bearer ${secret}' \\`,
    `    -d '{"query":"{ viewer { project { id name } role } stories(first: 5) { edges { node { title frameCount } } } }"}'`,
    '',
    'Ctrl-C stops the server.',
    '',
  ];
  const say = (line: string) => process.stdout.write(line + '\n');
  say(lines.join('\n'));

  if (!app.workers) {
    say('STORYFORGE_WORKERS is 0: no demo story is generated in this process.');
    return;
  }
  const outDir = resolve(process.cwd(), 'out');
  say(`Generating the demo story "${DEMO_STORY_TITLE}" through the API (one character, four frames):`);
  const progress = new ProgressReporter(process.stdout);
  try {
    const result = await generateDemoStory(app.url, secret, outDir, (fraction, label) => progress.phase('  generating', fraction, label));
    progress.finishLine();
    say('');
    say('Demo story generated:');
    for (const path of result.framePaths) say(`  frame:          ${path}`);
    say(`  contact sheet:  ${result.contactSheetPath}`);
    say(`  in the studio:  ${origin}/   (still serving; Ctrl-C stops it)`);
    say('');
  } catch (error) {
    progress.finishLine();
    log.error('demo story failed', { error });
    say(`The demo story could not be generated: ${(error as Error).message}. The API keeps serving at ${app.url}.`);
  }
}
