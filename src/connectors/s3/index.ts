import path from 'node:path';
import type { EngineConnector } from '../registry';
import { LocalStore } from './local-store';
import { partFormats } from './s3-format';
import { S3Source } from './s3-source';
import { openS3Store } from './s3-store';
import { S3Target } from './s3-target';
import { parquetValueLimits } from './s3-types';

/** What the parts of each format cannot hold: CSV and JSONL keep every value's text. */
const formatLimits = { parquet: parquetValueLimits };

/** A local directory as an object store, source and target, for the zero-setup demo and tests. */
export const localConnector: EngineConnector<'local'> = {
  openSource: (connection) => new S3Source(new LocalStore(path.resolve(connection.config.path))),
  openTarget: (connection) =>
    new S3Target(new LocalStore(path.resolve(connection.config.path)), partFormats[connection.config.format]),
  formatLimits,
};

/** An S3 bucket (or S3-compatible server) as a source and a target; Parquet parts by default. */
export const s3Connector: EngineConnector<'s3'> = {
  openSource: (connection) => new S3Source(openS3Store(connection)),
  openTarget: (connection) => new S3Target(openS3Store(connection), partFormats[connection.config.format]),
  formatLimits,
};
