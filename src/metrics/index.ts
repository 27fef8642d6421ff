/**
 * Prometheus metrics, in one folder:
 *   record.ts    what the rest of the gateway records through (and the exposition text)
 *   registry.ts  prom-client's registry and metrics, loaded on first use
 * The route that serves them is src/routes/metrics.ts.
 */
export {
  MAX_MODELS,
  metricsText,
  recordConfigReload,
  recordKeyLookup,
  recordKeyUsage,
  recordReasoningStore,
  recordRedisReconciled,
  recordRedisUp,
  recordRequest,
  recordUpstreamError,
  recordUpstreamRetry,
  registerUpstreamKeys,
  streamClosed,
  streamOpened,
  tokenCount,
  type RequestRecord,
} from "./record";
