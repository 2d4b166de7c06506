/**
 * undici's connector with the outbound policy applied to the address
 * actually connected to: literal IP hosts are checked before any packet is
 * sent, names resolve through the policy's filtering lookup (so DNS cannot
 * rebind a name to an internal address between a check and the connect),
 * and the socket's remote address is checked again once connected.
 */
import { isIP } from 'node:net';
import { buildConnector } from 'undici';
import { refused, type OutboundPolicy } from './policy.js';

/** A connector for undici's `connect` option that only reaches addresses `policy` allows. */
export function policyConnector(policy: OutboundPolicy, options: buildConnector.BuildOptions): buildConnector.connector {
  const connect = buildConnector({ ...options, lookup: policy.lookup });
  return (opts, callback) => {
    const trusted = policy.configuredHost(opts.hostname);
    const literal = isIP(opts.hostname) === 0 || trusted ? undefined : policy.addressProblem(opts.hostname);
    if (literal !== undefined) {
      callback(refused(literal), null);
      return;
    }
    connect(opts, (...args) => {
      const [err, socket] = args;
      if (err !== null) {
        callback(err, null);
        return;
      }
      const problem = trusted ? undefined : socket.remoteAddress === undefined ? `no remote address for ${opts.hostname}` : policy.addressProblem(socket.remoteAddress);
      if (problem !== undefined) {
        socket.destroy();
        callback(refused(problem), null);
        return;
      }
      callback(null, socket);
    });
  };
}
