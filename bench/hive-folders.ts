/**
 * Peak RSS and time of writing one chunk into a local directory as Parquet, whole or split into Hive
 * folders by a column (`partitionBy`), in a process of its own so that its peak RSS is its own:
 *
 *   npx tsx bench/hive-folders.ts flat|hive [rows=200000] [folders=500] [value bytes=200]
 *
 * e.g. `… hive 64 10 1000000` is one 64 MB chunk of 1 MB rows over 10 folders.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ChunkEncoding, type Row } from '../src/core/connector';
import { rowsFromBatches } from '../src/core/row-batches';
import type { TableMeta } from '../src/core/table';
import { LocalStore } from '../src/connectors/s3/local-store';
import { partFormats } from '../src/connectors/s3/s3-format';
import { S3Target } from '../src/connectors/s3/s3-target';

async function main(): Promise<void> {
  const [mode = 'hive', rowsArg = '200000', foldersArg = '500', bytesArg = '200'] = process.argv.slice(2);
  const rows = Number(rowsArg);
  const folders = Number(foldersArg);
  const body = 'x'.repeat(Number(bytesArg));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mms-hive-bench-'));
  const table: TableMeta = {
    engine: 'postgres',
    ref: { schema: 's', name: 't' },
    columns: [
      { name: 'id', nativeType: 'bigint', type: { kind: 'int64' }, nullable: false },
      { name: 'k', nativeType: 'integer', type: { kind: 'int32' }, nullable: false },
      { name: 'body', nativeType: 'text', type: { kind: 'text' }, nullable: true },
    ],
    primaryKey: ['id'],
    estimatedRows: rows,
    estimatedBytes: 0,
  };
  const target = new S3Target(new LocalStore(dir), partFormats.parquet);
  const task = { taskId: 'bench', table, targetRef: table.ref };
  const started = performance.now();
  const { checkpoint } = await target.prepare({
    ...task,
    writeMode: 'overwrite',
    createMode: 'ifMissing',
    ...(mode === 'hive' ? { partitionBy: ['k'] } : {}),
  });
  let read = 0;
  const written = await target.writeChunk({
    ...task,
    range: { after: null, upTo: [String(rows)] },
    previous: checkpoint,
    chunk: {
      data: {
        encoding: ChunkEncoding.Rows,
        // In batches of up to 1,024 rows or about 1 MB, as the database sources hand them over.
        rows: rowsFromBatches(
          (async function* (): AsyncGenerator<Row[]> {
            let batch: Row[] = [];
            let size = 0;
            for (let i = 0; i < rows; i++) {
              read++;
              batch.push([BigInt(i), i % folders, body + i]);
              size += body.length;
              if (batch.length === 1024 || size >= 1024 * 1024) {
                yield await Promise.resolve(batch);
                batch = [];
                size = 0;
              }
            }
            if (batch.length) yield batch;
          })(),
        ),
      },
      rowsRead: () => read,
      release: () => undefined,
    },
  });
  await target.finish('bench', table, table.ref);
  const seconds = (performance.now() - started) / 1000;
  rmSync(dir, { recursive: true, force: true });
  console.log(
    JSON.stringify({
      mode,
      rows: written.rowsWritten,
      folders: mode === 'hive' ? folders : 1,
      seconds: Number(seconds.toFixed(2)),
      peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    }),
  );
}

void main();
