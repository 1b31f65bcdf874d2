/**
 * A worker host's entry point: `node dist/workers/main.js` is `storyforge worker` (jobs from the
 * queue, through the engine, into the store; no HTTP). It sits at the top of the tree so a
 * deployment's two kinds of process are both visible there; the code is src/workers/.
 */
process.argv.splice(2, process.argv.length - 2, 'worker');
require('../src/cli/storyforge');
