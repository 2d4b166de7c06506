/**
 * Liveness (`/health`: the process serves) and readiness (`/ready`: the
 * store accepts writes; 503 ERR_STORAGE_UNAVAILABLE otherwise).
 */
import type { Store } from '../core/store.js';
import type { Endpoint } from './endpoint.js';
import { sendBody } from './respond.js';

const OK = Buffer.from('{"status":"ok"}');
const NO_STORE = { 'cache-control': 'no-store' };

/** Creates the /health and /ready endpoints. */
export function createHealthEndpoints(store: Store): Endpoint[] {
  const get = (m: string): boolean => m === 'GET' || m === 'HEAD';
  return [
    {
      name: 'health',
      match: (m, s) => get(m) && s.length === 1 && s[0] === 'health',
      handle: ({ req, res }) => Promise.resolve({ bytes: sendBody(req, res, 200, 'application/json', OK, NO_STORE) }),
    },
    {
      name: 'ready',
      match: (m, s) => get(m) && s.length === 1 && s[0] === 'ready',
      async handle({ req, res }) {
        await store.checkWritable();
        const body = Buffer.from(JSON.stringify({ status: 'ready', store: store.kind }));
        return { bytes: sendBody(req, res, 200, 'application/json', body, NO_STORE) };
      },
    },
  ];
}
