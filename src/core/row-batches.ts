import type { Readable } from 'node:stream';
import type { Row } from './connector';

/**
 * Rows that travel a batch at a time. Every layer of `for await … yield` costs each row several
 * promises, and while an activity runs, Node's AsyncLocalStorage hooks run for every one of them: a
 * worker profile of MySQL → PostgreSQL spent more time there than in encoding values. So sources
 * hand over what they have buffered as one array, layers map whole arrays, and the target encodes
 * them in a plain loop. Rows stay an `AsyncIterable<Row>` for everyone who wants one row at a time.
 */
const batchesKey = Symbol('mms.rowBatches');

interface BatchedRows extends AsyncIterable<Row> {
  [batchesKey]: AsyncIterable<Row[]>;
}

/** Rows made of batches: read row by row, or batch by batch through {@link rowBatches}. */
export function rowsFromBatches(batches: AsyncIterable<Row[]>): AsyncIterable<Row> {
  const rows: BatchedRows = {
    [batchesKey]: batches,
    async *[Symbol.asyncIterator]() {
      for await (const batch of batches) yield* batch;
    },
  };
  return rows;
}

/**
 * The rows as batches: the source's own when it made them, else one row a batch (never more, so
 * rows of 10 MB are not gathered into a big batch).
 */
export function rowBatches(rows: AsyncIterable<Row>): AsyncIterable<Row[]> {
  const own = (rows as Partial<BatchedRows>)[batchesKey];
  if (own) return own;
  return (async function* () {
    for await (const row of rows) yield [row];
  })();
}

/** Rows with `convert` applied to each, batches kept whole. */
export function mapRows(rows: AsyncIterable<Row>, convert: (row: Row) => Row): AsyncIterable<Row> {
  return rowsFromBatches(
    (async function* () {
      for await (const batch of rowBatches(rows)) yield batch.map(convert);
    })(),
  );
}

/** How much one batch may take from a stream: items, and optionally a size such as characters. */
export interface BatchLimit<T> {
  items: number;
  /** A batch ends with the item that reaches `maxSize`; a bigger item is a batch of its own. */
  size?: { of: (item: T) => number; maxSize: number };
}

/**
 * What an object-mode stream holds at each moment, as arrays within `limit`. Only what the stream
 * has buffered is taken, so its highWaterMark still bounds what is read ahead. Taking a batch empties
 * that buffer, which the stream refills while the batch is used: a limit of about the buffer's size
 * holds at most about twice the read-ahead (one row more, for rows of 10 MB).
 */
export async function* readableBatches<T>(stream: Readable, limit: BatchLimit<T>): AsyncGenerator<T[]> {
  // An error while the reader holds a batch (or after it stopped) would be an unhandled 'error'
  // event; the reader learns of it from `stream.errored` at its next call instead.
  stream.on('error', () => undefined);
  for (;;) {
    const batch = takeBuffered<T>(stream, limit);
    if (batch.length > 0) {
      yield batch;
      continue;
    }
    if (stream.readableEnded) return;
    if (stream.errored) throw stream.errored;
    if (stream.destroyed) throw new Error('the stream closed before its end');
    await new Promise<void>((resolve, reject) => {
      const settle = (error?: Error): void => {
        stream.off('readable', ready).off('end', ready).off('close', ready).off('error', settle);
        if (error) reject(error);
        else resolve();
      };
      const ready = (): void => settle();
      stream.on('readable', ready).on('end', ready).on('close', ready).on('error', settle);
    });
  }
}

/** The items the stream has buffered, up to the limit; none when it has nothing now. */
function takeBuffered<T>(stream: Readable, limit: BatchLimit<T>): T[] {
  const batch: T[] = [];
  let size = 0;
  while (batch.length < limit.items && (!limit.size || size < limit.size.maxSize)) {
    const item = stream.read() as T | null;
    if (item === null) break;
    batch.push(item);
    if (limit.size) size += limit.size.of(item);
  }
  return batch;
}
