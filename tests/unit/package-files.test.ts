/**
 * What `npm pack` (and so `npm install -g` of the tarball) ships: the command, the compiled
 * server, workers and studio, the SDL, the model packs and the one source file served as is;
 * nothing of the tests, sources or training. The Dockerfile's runtime stage needs the same
 * files, so each path it copies from the build context must be shipped too.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '../..');

function packed(): string[] {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const out = execFileSync(npm, ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return (JSON.parse(out) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
}

describe('the npm package', () => {
  let files: string[];
  beforeAll(() => {
    files = packed();
  }, 60_000);

  it('ships the command, the SDL, the model packs and GraphiQL\'s start script', () => {
    expect(files).toEqual(expect.arrayContaining([
      'bin/storyforge.js', 'package.json', 'clients/schema.graphql', 'schema/job.graphql', 'src/api/graphiql/start-graphiql.js',
      'models/packs/story-world/manifest.json', 'models/packs/story-world/unet.onnx', 'models/packs/story-world/judge.onnx',
    ]));
  });

  it('ships the build when there is one: server, workers and studio', () => {
    if (!existsSync(join(ROOT, 'dist/src/cli/storyforge.js'))) return; // prepack builds it before a real pack
    expect(files).toEqual(expect.arrayContaining(['dist/src/cli/storyforge.js', 'dist/src/workers/compute/compute-thread.js', 'dist/workers/main.js']));
    if (existsSync(join(ROOT, 'dist/studio/index.html'))) expect(files).toContain('dist/studio/index.html');
  });

  it('leaves out tests, TypeScript sources, training and local data', () => {
    const stray = files.filter((f) => /^(tests|bench|\.data|out|test-output|models\/story-world|clients\/(studio|typescript)|dist\/(bench|tests))\//.test(f)
      || (f.startsWith('src/') && f !== 'src/api/graphiql/start-graphiql.js'));
    expect(stray).toEqual([]);
  });

  it('ships every path the Docker runtime stage copies from the build context', () => {
    const runtime = readFileSync(join(ROOT, 'Dockerfile'), 'utf8').split(/^FROM /m).at(-1)!;
    const copied = [...runtime.matchAll(/^COPY (?!--from)(\S+)/gm)].map((m) => m[1]!);
    expect(copied.length).toBeGreaterThan(2);
    for (const path of copied) expect([path, files.some((f) => f === path || f.startsWith(path.replace(/\/?$/, '/')))]).toEqual([path, true]);
  });
});
