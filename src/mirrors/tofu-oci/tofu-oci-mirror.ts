/**
 * The request handler of a `tofu_oci` instance (its own listener, `/v2/`
 * at the root): the OCI Distribution pull API over OpenTofu's provider
 * layout (layout.ts). The path is parsed with the `oci` mode's grammar
 * (request.ts, names.ts), the repository read as a provider or module
 * address (repository.ts), then:
 * - `/v2/` answers locally;
 * - `tags/list` lists the upstream registry's versions (`+` → `_`),
 *   filtered by allow/deny;
 * - a manifest by tag resolves the version and answers its image index
 *   (provider-artifacts.ts) or module manifest (module-artifacts.ts);
 * - a manifest by digest and a blob by digest are answered only for
 *   digests regcache generated for this repository (the store), the empty
 *   config locally, anything else 404 with no upstream request;
 * - referrers are not offered (404).
 */
import { RegcacheError } from '../../core/errors.js';
import type { BodyAnswer, Mirror, MirrorAnswer, MirrorRequest } from '../mirror.js';
import { parseOciRequest } from '../oci/request.js';
import { parseVersion } from '../terraform/names.js';
import { EMPTY_BYTES, EMPTY_DIGEST, EMPTY_TYPE, tagOf, versionOfTag } from './layout.js';
import type { RepoHandle } from './repository.js';

/** What the handler works with: the handle of a repository (throws for names it refuses), and the policy's version check. */
export interface TofuOciMirrorDeps {
  repository(repo: string): { handle: RepoHandle; checkVersion: (version: string) => void };
}

const API = { 'docker-distribution-api-version': 'registry/2.0' };

function body(contentType: string, bytes: Buffer, result: BodyAnswer['result'], headers: Record<string, string> = {}): BodyAnswer {
  return { kind: 'body', status: 200, contentType, body: bytes, result, headers: { ...API, ...headers } };
}

/** Creates the instance's one Mirror, owning its listener's whole path space. */
export function createTofuOciMirror(deps: TofuOciMirrorDeps): Mirror {
  return {
    name: 'tofu-oci',
    prefix: [],
    async handle(req: MirrorRequest): Promise<MirrorAnswer> {
      const r = parseOciRequest(req.segments);
      if (r.kind === 'ping') return body('application/json', Buffer.from('{}'), 'hit');
      const { handle, checkVersion } = deps.repository(r.repo);
      switch (r.kind) {
        case 'referrers':
          throw new RegcacheError('ERR_NOT_FOUND', 'referrers are not offered');
        case 'tags': {
          const t = await handle.tags();
          return body('application/json', Buffer.from(JSON.stringify({ name: r.repo, tags: t.tags })), t.result);
        }
        case 'blob': {
          if (r.digest.algorithm !== 'sha256') throw new RegcacheError('ERR_NOT_FOUND', 'blob unknown to this repository');
          if (r.digest.text === EMPTY_DIGEST) return body(EMPTY_TYPE, EMPTY_BYTES, 'hit', { 'docker-content-digest': EMPTY_DIGEST });
          const route = await handle.layer(r.digest.hex);
          if (route === undefined) throw new RegcacheError('ERR_NOT_FOUND', 'blob unknown to this repository');
          return { kind: 'artifact', route };
        }
        case 'manifest': {
          const ref = r.reference;
          if (ref.kind === 'digest') {
            const m = ref.digest.algorithm === 'sha256' ? await handle.manifest(ref.digest.hex) : undefined;
            if (m === undefined) throw new RegcacheError('ERR_NOT_FOUND', 'manifest unknown to this repository');
            return body(m.mediaType, m.body, 'hit', { 'docker-content-digest': ref.digest.text });
          }
          const version = parseVersion(versionOfTag(ref.tag));
          if (tagOf(version) !== ref.tag) throw new RegcacheError('ERR_BAD_REQUEST', 'invalid tag');
          checkVersion(version);
          const m = await handle.byVersion(version);
          return body(m.mediaType, m.body, 'miss', { 'docker-content-digest': m.digest });
        }
      }
    },
  };
}
