import type { Context } from '@temporalio/activity';
import type { ChunkStream } from '../core/connector';
import { ErrorCode, MigrationError } from '../core/errors';

/** The longest pause between two heartbeats of a copy, whatever its heartbeat timeout. */
const maxHeartbeatEveryMs = 5_000;
/** A chunk whose source produced nothing for this long (or 3 heartbeat timeouts, if longer) is stalled. */
const minStallLimitMs = 120_000;

/** How often a copy heartbeats: well inside its heartbeat timeout, so a slow chunk is never taken for a dead one. */
export function heartbeatInterval(heartbeatTimeoutMs: number | undefined): number {
  if (!heartbeatTimeoutMs) return maxHeartbeatEveryMs;
  return Math.max(250, Math.min(maxHeartbeatEveryMs, Math.floor(heartbeatTimeoutMs / 3)));
}

/** How long a chunk may make no progress before its attempt stops heartbeating and lets Temporal retry it. */
export function stallLimit(heartbeatTimeoutMs: number | undefined): number {
  return Math.max(minStallLimitMs, 3 * (heartbeatTimeoutMs ?? 0));
}

/**
 * Keeps a long copy alive between chunk commits, and ends an attempt that Temporal has given up on.
 *
 * - While a chunk is in flight, heartbeats go on as long as its source keeps producing rows or bytes. A
 *   chunk stalled for {@link stallLimit} (a black-holed connection) stops heartbeating, so the attempt times
 *   out and is retried elsewhere, instead of holding the task forever.
 * - When the attempt is cancelled for any reason but a cancel the workflow asked for (heartbeat timeout,
 *   attempt no longer known, worker shutdown), the in-flight chunk is released with an error at once. Its
 *   target transaction rolls back and its connections close, so a zombie attempt cannot race the next one
 *   for the same checkpoint row. A cancel the workflow asked for waits for the chunk boundary instead.
 */
export class ChunkWatch {
  /** The chunks in flight: one, or two while the next loads as one commits. */
  private readonly chunks = new Set<ChunkStream>();
  private lastProgress = -1;
  private lastMovedAt = Date.now();
  private readonly ticker: NodeJS.Timeout;
  private readonly onAbort = (): void => {
    if (this.ctx.cancellationDetails?.cancelRequested) return;
    for (const chunk of this.chunks)
      chunk.release(
        new MigrationError(
          ErrorCode.ConnectionLost,
          'copy attempt abandoned (timed out or lost); the chunk rolls back',
        ),
      );
  };

  constructor(
    private readonly ctx: Context,
    private readonly heartbeat: () => void,
  ) {
    const timeout = ctx.info.heartbeatTimeoutMs;
    const limit = stallLimit(timeout);
    this.ticker = setInterval(() => {
      const progress = this.progress();
      if (progress !== this.lastProgress) {
        this.lastProgress = progress;
        this.lastMovedAt = Date.now();
      }
      if (this.chunks.size === 0 || Date.now() - this.lastMovedAt < limit) this.heartbeat();
    }, heartbeatInterval(timeout));
    ctx.cancellationSignal.addEventListener('abort', this.onAbort);
  }

  /** Runs one chunk's write under watch. */
  async during<T>(chunk: ChunkStream, write: () => Promise<T>): Promise<T> {
    this.chunks.add(chunk);
    this.lastMovedAt = Date.now();
    if (this.ctx.cancellationSignal.aborted) this.onAbort();
    try {
      return await write();
    } finally {
      this.chunks.delete(chunk);
    }
  }

  /** Stops the ticker and the cancellation listener. */
  stop(): void {
    clearInterval(this.ticker);
    this.ctx.cancellationSignal.removeEventListener('abort', this.onAbort);
  }

  private progress(): number {
    if (this.chunks.size === 0) return -1;
    let moved = 0;
    for (const chunk of this.chunks) moved += chunk.rowsRead() + (chunk.bytesRead?.() ?? 0);
    return moved;
  }
}
