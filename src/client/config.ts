/** Where Temporal is and which task queue jobs use; every value can come from the environment. */
export interface TemporalSettings {
  address: string;
  namespace: string;
  taskQueue: string;
  /** The Web UI base URL, for links. */
  uiUrl: string;
}

/** Reads the Temporal settings from `MMS_TEMPORAL_*` variables with local dev defaults. */
export function temporalSettings(env: NodeJS.ProcessEnv = process.env): TemporalSettings {
  return {
    address: env.MMS_TEMPORAL_ADDRESS ?? '127.0.0.1:7233',
    namespace: env.MMS_TEMPORAL_NAMESPACE ?? 'default',
    taskQueue: env.MMS_TASK_QUEUE ?? 'mms',
    uiUrl: env.MMS_TEMPORAL_UI ?? 'http://127.0.0.1:8233',
  };
}

/** The Web UI link of one workflow. */
export function workflowUrl(settings: TemporalSettings, workflowId: string): string {
  return `${settings.uiUrl}/namespaces/${encodeURIComponent(settings.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}
