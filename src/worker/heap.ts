import v8 from 'node:v8';
import vm from 'node:vm';
import type { ChunkStream, Row } from '../core/connector';
import { rowBatches, rowsFromBatches } from '../core/row-batches';

/**
 * How much V8 lets the heap grow past its live size before the next full collection. By default
 * up to 4×; a worker's garbage is rows on their way through, so 1.5× keeps its peak RSS about 90 MB
 * lower (2,000,000 rows to Parquet: 360 → 272 MB) for under a second more CPU per 2,000,000 rows.
 * `--heap-growing-percent` given to node takes precedence.
 */
const heapGrowingPercent = 50;

/**
 * The young generation's semi-space, in MB, of the heaps created after start-up: the workflow
 * thread's. Its garbage is activations, small and short-lived. With V8's default of up to 16 MB, its
 * young generation took 32 MB, and in the 1,000-table job its heap reached 118 MB physical over
 * 40–50 MB live (heap snapshot); with 4 MB the job peaked 27–40 MB lower. The main thread, which
 * moves rows, keeps the default: a smaller one there cost the 2,000,000-row routes CPU.
 */
const workflowThreadSemiSpaceMb = 4;

/** True when node was started with the flag, which then takes precedence. */
const nodeFlagGiven = (flag: string): boolean =>
  [...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((a) => a.includes(flag));

/** Applies {@link heapGrowingPercent}; V8 reads it at every collection, so it works after start-up too. */
export function limitHeapGrowth(): void {
  if (!nodeFlagGiven('heap-growing-percent'))
    v8.setFlagsFromString(`--heap-growing-percent=${heapGrowingPercent}`);
}

/**
 * Applies {@link workflowThreadSemiSpaceMb} to heaps created from now on. V8 reads the flag when it
 * sets up a heap, so call it before the worker starts its workflow thread; the main thread's heap is
 * set up already and keeps its size.
 */
export function limitWorkflowThreadYoungGeneration(): void {
  if (!nodeFlagGiven('semi-space-size'))
    v8.setFlagsFromString(`--max-semi-space-size=${workflowThreadSemiSpaceMb}`);
}

/** Rows at least this wide on average make a chunk's rows "wide". */
export const wideRowBytes = 64 * 1024;
/** Bytes of wide rows after which a full collection runs. */
const collectEveryBytes = 8 * 1024 * 1024;

let collector: (() => void) | null | undefined;

/** V8's full collection, taken the way Jest takes it: exposed for one new context, then hidden again. */
function fullCollection(): (() => void) | null {
  if (collector === undefined) {
    try {
      v8.setFlagsFromString('--expose-gc');
      collector = vm.runInNewContext('gc') as () => void;
    } catch {
      collector = null;
    } finally {
      v8.setFlagsFromString('--no-expose-gc');
    }
  }
  return collector;
}

/**
 * The chunk, collecting garbage after every {@link collectEveryBytes} of its rows when its rows are
 * wide (`rowBytes`, the measured average). A 10 MB value is a large object or an off-heap buffer
 * several times over on its way (bytes read, decoded text, encoded bytes); V8 frees those only at a
 * full collection, which its own heuristics put off for 100 MB and more. A collection after every
 * such row kept the worker's peak 40–70 MB lower (PostgreSQL → S3 and MySQL → PostgreSQL, 10 MB
 * rows) for about 50% more CPU on those rows, whose time goes to the network and the servers anyway.
 * Ordinary rows die young and cheap, so their chunks pass through untouched.
 */
export function collectingAfterWideRows(chunk: ChunkStream, rowBytes: number): ChunkStream {
  const collect = rowBytes >= wideRowBytes ? fullCollection() : null;
  if ('stream' in chunk.data || !chunk.bytesRead || !collect) return chunk;
  const bytesRead = (): number => chunk.bytesRead?.() ?? 0;
  const source = chunk.data.rows;
  const batches = (async function* (): AsyncGenerator<Row[]> {
    let collectedAt = 0;
    for await (const batch of rowBatches(source)) {
      // The rows before this batch have been written, and every layer on the way has let go of them
      // (a generator keeps the batch it last yielded until it is asked for the next): collecting here
      // frees them and what they made. Right after `yield`, the layers below still held them.
      if (bytesRead() - collectedAt >= collectEveryBytes) {
        collect();
        collectedAt = bytesRead();
      }
      yield batch;
    }
  })();
  return { ...chunk, data: { ...chunk.data, rows: rowsFromBatches(batches) } };
}
