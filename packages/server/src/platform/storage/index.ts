/** The file store chosen by the configuration, and the signer of its URLs. */
import path from 'node:path';
import type { Config } from '../config.js';
import { type BlobStore, LocalStore, S3Store } from './store.js';
import { UrlSigner } from './urls.js';

export type { BlobStore, ByteRange, S3Options } from './store.js';
export { LocalStore, parseS3Url, S3Store } from './store.js';
export { UrlSigner } from './urls.js';

export interface Storage {
  store: BlobStore;
  urls: UrlSigner;
}

/** S3 when configured, else the `files` folder inside the data folder. */
export function createStorage(config: Config, masterKey: Buffer): Storage {
  const store: BlobStore = config.s3 ? new S3Store(config.s3) : new LocalStore(path.join(config.dataDir, 'files'));
  return { store, urls: new UrlSigner(masterKey, config.fileUrlTtlSeconds) };
}
