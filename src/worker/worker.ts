import { NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { ConnectorCache, createActivities } from '../activities';
import { temporalSettings, type TemporalSettings } from '../client/config';
import { dataConverterFromEnv } from '../client/payload-codec';
import { loadConnections, type ConnectionResolver } from './connections';
import { limitHeapGrowth, limitWorkflowThreadYoungGeneration } from './heap';
import { createLogger, TemporalLogger } from './logger';
import { serveMetrics } from './metrics';
import { workflowBundlePath } from './workflow-bundle';

/** Options of a worker process. */
export interface WorkerOptions {
  settings?: Partial<TemporalSettings>;
  /** Resolves connection names; defaults to MMS_CONNECTIONS_FILE and MMS_CONNECTION_* variables. */
  connections?: ConnectionResolver;
  /** Stops the worker gracefully when aborted. */
  signal?: AbortSignal;
  /** Activities run at once per worker. */
  maxConcurrentActivities?: number;
  /** Serves Prometheus metrics at `/metrics` on this port; off when absent. */
  metricsPort?: number;
}

let runtimeInstalled = false;

/** Installs the redacting logger once per process; call it before anything else touches the SDK Runtime. */
export function installRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({ logger: new TemporalLogger(createLogger(process.env.MMS_LOG_LEVEL ?? 'warn')) });
}

/** Creates a worker hosting our workflows and activities; call `run()` on it. */
export async function createWorker(
  options: WorkerOptions = {},
): Promise<{ worker: Worker; close: () => Promise<void> }> {
  installRuntime();
  limitHeapGrowth();
  limitWorkflowThreadYoungGeneration();
  const settings = { ...temporalSettings(), ...options.settings };
  const cache = new ConnectorCache(options.connections ?? loadConnections());
  // Prebundled: webpack inside the worker would raise its peak RSS by about 150 MB for good.
  const codePath = await workflowBundlePath();
  const connection = await NativeConnection.connect({ address: settings.address });
  const worker = await Worker.create({
    connection,
    namespace: settings.namespace,
    taskQueue: settings.taskQueue,
    // With MMS_PAYLOAD_KEY set, every payload is encrypted before it reaches Temporal.
    dataConverter: dataConverterFromEnv(),
    workflowBundle: { codePath },
    activities: createActivities(cache),
    maxConcurrentActivityTaskExecutions: options.maxConcurrentActivities ?? 8,
    // Heartbeats reach the server within 2 s, so a cancelled copy learns of it at its next chunk boundary.
    maxHeartbeatThrottleInterval: '2s',
    defaultHeartbeatThrottleInterval: '2s',
  });
  return {
    worker,
    close: async () => {
      await cache.close();
      await connection.close();
    },
  };
}

/** Runs a worker until it is shut down (SIGINT/SIGTERM or the abort signal). */
export async function runWorker(options: WorkerOptions = {}): Promise<void> {
  const { worker, close } = await createWorker(options);
  options.signal?.addEventListener('abort', () => worker.shutdown());
  const metrics = options.metricsPort === undefined ? undefined : await serveMetrics(options.metricsPort);
  try {
    await worker.run();
  } finally {
    metrics?.close();
    await close();
  }
}
