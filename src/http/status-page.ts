/**
 * Placeholder until the status page lands: `GET /` answers a short JSON
 * pointer to the docs.
 */
import type { Endpoint } from './endpoint.js';
import { sendBody } from './respond.js';

/** What the status page shows. */
export interface StatusPageDeps {
  version: string;
  caPath: string | undefined;
}

/** Creates the status page endpoints. */
export function createStatusPage(deps: StatusPageDeps): Endpoint[] {
  return [
    {
      name: 'status',
      match: (m, s) => (m === 'GET' || m === 'HEAD') && s.length === 0,
      handle: ({ req, res }) => Promise.resolve({ bytes: sendBody(req, res, 200, 'application/json', Buffer.from(JSON.stringify({ name: 'regcache', version: deps.version })), {}) }),
    },
  ];
}
