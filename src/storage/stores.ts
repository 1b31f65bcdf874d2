import { join } from 'node:path';
import type { Config, S3Config } from '../config';
import { BankStore, FsBankStore } from './bank-store';
import { FsImageStore } from './fs-image-store';
import type { ImageStore } from './image-store';
import { S3BankStore, S3ImageStore } from './s3';

/** What picks the stores: the S3 bucket when configured, else folders under the data dir. */
export type StoreConfig = Pick<Config, 'dataDir'> & { s3?: S3Config | undefined };

/** The image store: objects `<prefix>images/...` of STORYFORGE_S3_BUCKET, else files under `<data dir>/images`. */
export function createImageStore(config: StoreConfig): ImageStore {
  return config.s3 ? new S3ImageStore(config.s3) : new FsImageStore(join(config.dataDir, 'images'));
}

/** Where identity banks outlive a process: objects `<prefix>banks/...` of the bucket, else files under `<data dir>/banks`. */
export function createBankStore(config: StoreConfig): BankStore {
  return config.s3 ? new S3BankStore(config.s3) : new FsBankStore(join(config.dataDir, 'banks'));
}
