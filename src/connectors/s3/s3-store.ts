import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type ListObjectsV2CommandOutput,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { Readable } from 'node:stream';
import { ErrorCode, MigrationError } from '../../core/errors';
import type { ResolvedConnection } from '../registry';
import type { ObjectBody, ObjectStore } from './object-store';
import { classifyS3Error } from './s3-errors';

/** Multipart part size: S3's minimum is 5 MiB; 8 MiB × 2 parts in flight bounds an upload's memory. */
const multipartPartSize = 8 * 1024 * 1024;
const multipartQueueSize = 2;
/** DeleteObjects takes at most 1000 keys per request. */
const deleteBatchSize = 1000;

/** An S3 bucket (or an S3-compatible server) under a key prefix, as an object store. */
export class S3Store implements ObjectStore {
  private readonly prefix: string;

  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    prefix = '',
  ) {
    this.prefix = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
  }

  async put(key: string, body: ObjectBody): Promise<void> {
    const params = { Bucket: this.bucket, Key: this.prefix + key, Body: body };
    try {
      // A stream of unknown length goes up in parts; S3 makes the object visible only when the upload completes.
      if (body instanceof Readable) {
        await new Upload({
          client: this.client,
          params,
          partSize: multipartPartSize,
          queueSize: multipartQueueSize,
          leavePartsOnError: false,
        }).done();
      } else {
        await this.client.send(new PutObjectCommand(params));
      }
    } catch (e) {
      throw classifyS3Error(e, { path: key });
    }
  }

  async get(key: string): Promise<Buffer | null> {
    try {
      const result = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }),
      );
      if (!result.Body) return Buffer.alloc(0);
      return Buffer.from(await result.Body.transformToByteArray());
    } catch (e) {
      // Only a missing key means "no object": a missing bucket is a 404 too, and must not read as empty.
      if ((e as { name?: string }).name === 'NoSuchKey') return null;
      throw classifyS3Error(e, { path: key });
    }
  }

  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    for await (const page of this.pages(prefix)) {
      for (const object of page.Contents ?? [])
        if (object.Key) keys.push(object.Key.slice(this.prefix.length));
    }
    return keys;
  }

  async listFolders(prefix: string): Promise<string[]> {
    const folders: string[] = [];
    for await (const page of this.pages(prefix, '/')) {
      for (const common of page.CommonPrefixes ?? [])
        if (common.Prefix) folders.push(common.Prefix.slice(this.prefix.length + prefix.length, -1));
    }
    return folders;
  }

  async delete(keys: string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += deleteBatchSize) {
      const batch = keys.slice(i, i + deleteBatchSize);
      try {
        const result = await this.client.send(
          new DeleteObjectsCommand({
            Bucket: this.bucket,
            Delete: { Objects: batch.map((key) => ({ Key: this.prefix + key })), Quiet: true },
          }),
        );
        const failed = result.Errors?.[0];
        if (failed)
          throw new MigrationError(
            failed.Code === 'AccessDenied' ? ErrorCode.PermissionDenied : ErrorCode.Internal,
            `S3 could not delete ${failed.Key ?? '?'}: ${failed.Code ?? ''} ${failed.Message ?? ''}`,
            { path: failed.Key },
          );
      } catch (e) {
        throw classifyS3Error(e, { path: batch[0] });
      }
    }
  }

  close(): Promise<void> {
    this.client.destroy();
    return Promise.resolve();
  }

  /** ListObjectsV2 pages under a prefix, following continuation tokens. */
  private async *pages(prefix: string, delimiter?: string): AsyncGenerator<ListObjectsV2CommandOutput> {
    let token: string | undefined;
    do {
      const page = await this.client
        .send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: this.prefix + prefix,
            Delimiter: delimiter,
            ContinuationToken: token,
          }),
        )
        .catch((e: unknown) => {
          throw classifyS3Error(e, { path: prefix });
        });
      yield page;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }
}

/** Opens an S3 store for a connection; without an access key the SDK's default credential chain applies. */
export function openS3Store(connection: ResolvedConnection<'s3'>): S3Store {
  const { config, password } = connection;
  if (config.accessKeyId && password === undefined)
    throw new MigrationError(
      ErrorCode.BadConnection,
      `connection "${connection.name}" has an accessKeyId but no secretAccessKey`,
      { connection: connection.name },
    );
  const client = new S3Client({
    endpoint: config.endpoint,
    region: config.region,
    forcePathStyle: config.forcePathStyle,
    credentials:
      config.accessKeyId && password !== undefined
        ? { accessKeyId: config.accessKeyId, secretAccessKey: password }
        : undefined,
    // Checksums only where S3 requires them: many S3-compatible servers reject the newer trailing checksums.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 3,
  });
  return new S3Store(client, config.bucket, config.prefix);
}
