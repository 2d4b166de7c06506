/**
 * Serves the Prometheus registry at `metrics.path` on the main listener
 * (and on the separate `metrics.listen` port when configured), optionally
 * behind `metrics.token`.
 */
import { bearerCheck } from './admin-auth.js';
import type { Endpoint } from './endpoint.js';
import { sendBody } from './respond.js';

/** Where the exposition text comes from: a prom-client registry, or the sum over worker processes. */
export interface MetricsSource {
  readonly contentType: string;
  metrics(): Promise<string>;
}

/** Creates the metrics endpoint for `path` ("/metrics"). */
export function createMetricsEndpoint(registry: MetricsSource, path: string, token: string | undefined): Endpoint {
  const segments = path.split('/').filter((s) => s !== '');
  const check = token ? bearerCheck(token) : undefined;
  return {
    name: 'metrics',
    match: (m, s) => (m === 'GET' || m === 'HEAD') && s.length === segments.length && s.every((x, i) => x === segments[i]),
    async handle({ req, res }) {
      check?.(req);
      const body = Buffer.from(await registry.metrics());
      return { bytes: sendBody(req, res, 200, registry.contentType, body, { 'cache-control': 'no-store' }) };
    },
  };
}
