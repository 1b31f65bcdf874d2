/**
 * Opens a pack with the CSA patch `opens` times and reports how each went: run in several
 * worker threads at once (tests/engine/pack-external-data.test.ts), or as another user.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadPack, openPack } from '../../src/engine/pack';
import { Runtime } from '../../src/engine/runtime';

export async function openRepeatedly(packDir: string, opens: number): Promise<string[]> {
  const errors: string[] = [];
  for (let i = 0; i < opens; i++) {
    const runtime = new Runtime({ intraOpThreads: 1, interOpThreads: 1 });
    try {
      const opened = await openPack(await loadPack(packDir), runtime, { csa: true });
      if (!opened.csa?.externalData) errors.push('the pack was expected to keep its UNet weights in an external file');
    } catch (error) {
      errors.push((error as Error).message.slice(0, 300));
    } finally {
      await runtime.dispose();
    }
  }
  return errors;
}

if (parentPort && workerData?.packDir) {
  const port = parentPort;
  void openRepeatedly(workerData.packDir as string, workerData.opens as number).then((errors) => port.postMessage(errors));
} else if (require.main === module) {
  // As a child process: node -r ts-register open-pack-worker.ts <packDir> <opens>
  void openRepeatedly(process.argv[2]!, Number(process.argv[3])).then((errors) => {
    process.stdout.write(JSON.stringify(errors));
  });
}
