/**
 * regcache's own `/.well-known/terraform.json`, so a source address naming
 * regcache itself (`<regcache host>/hashicorp/aws`) resolves: it advertises
 * the registry and module protocols for the first configured upstream.
 */
import { RegcacheError } from '../../core/errors.js';
import { jsonAnswer, type Mirror } from '../mirror.js';

/** Creates the adapter for /.well-known/terraform.json. */
export function createDiscoveryDoc(defaultHost: string): Mirror {
  const doc = { 'providers.v1': `/v1/providers/${defaultHost}/`, 'modules.v1': `/v1/modules/${defaultHost}/` };
  return {
    name: 'terraform-discovery',
    prefix: ['.well-known'],
    handle(req) {
      if (req.segments.length !== 1 || req.segments[0] !== 'terraform.json') return Promise.reject(new RegcacheError('ERR_NOT_FOUND'));
      return Promise.resolve(jsonAnswer(doc, 'bypass'));
    },
  };
}
