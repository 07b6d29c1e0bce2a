import path from 'node:path';
import type { EngineConnector } from '../registry';
import { LocalStore } from './local-store';
import { partFormats } from './s3-format';
import { S3Target } from './s3-target';

/** A local directory as an object-store target, for the zero-setup demo and tests. */
export const localConnector: EngineConnector<'local'> = {
  openTarget: (connection) =>
    new S3Target(new LocalStore(path.resolve(connection.config.path)), partFormats[connection.config.format]),
};
