/**
 * The npm registry protocol below an instance's mount: packuments (full or
 * abbreviated, chosen by Accept; `Vary: Accept`), dist-tags, tarballs, and
 * `-/ping`. Search, audit, login, whoami and every other `-/` endpoint are
 * answered 404 with a JSON error naming them, without any upstream request;
 * publishing (PUT) is refused by the server (405). Nothing of those is cached.
 */
import type { Credential } from '../../access/credential.js';
import { RegcacheError } from '../../core/errors.js';
import { credentialOf, jsonAnswer, type Mirror, type MirrorAnswer, type MirrorRequest } from '../mirror.js';
import { parseNpmRequest } from './names.js';
import { distTagsOf, parsePackument, rewritePackument } from './packument-json.js';
import { CORGI, type Packuments } from './packuments.js';
import { tarballRequest, type TarballDeps } from './tarballs.js';

/** What the mirror needs. */
export interface NpmMirrorDeps {
  /** The instance's mount ("/npm"). */
  mount: string;
  /** The fixed public URL, when configured (else the request's base URL). */
  publicUrl: string | undefined;
  packuments: Packuments;
  tarballs: TarballDeps;
}

const VARY = { vary: 'Accept' };

/** Creates the npm mirror (it owns everything below the mount). */
export function createNpmMirror(deps: NpmMirrorDeps): Mirror {
  return {
    name: 'npm',
    prefix: [],
    async handle(req: MirrorRequest): Promise<MirrorAnswer> {
      const r = parseNpmRequest(req.segments);
      const cred: Credential = credentialOf(req);
      switch (r.kind) {
        case 'ping':
          return jsonAnswer({}, 'hit');
        case 'unsupported':
          throw new RegcacheError('ERR_NOT_FOUND', `this npm mirror serves packages only: search, audit, login and publishing (-/${r.what}) go to the registry itself`);
        case 'dist-tags': {
          const p = await deps.packuments.read(r.name, 'corgi', cred);
          return jsonAnswer(distTagsOf(parsePackument(p.body, r.name)), p.result);
        }
        case 'packument': {
          const corgi = String(req.headers.accept ?? '').includes(CORGI);
          const p = await deps.packuments.read(r.name, corgi ? 'corgi' : 'full', cred);
          const body = rewritePackument(p.body, r.name, `${deps.publicUrl ?? req.baseUrl}${deps.mount}`);
          return { kind: 'body', status: 200, contentType: p.contentType, body, result: p.result, headers: VARY };
        }
        case 'tarball': {
          const t = tarballRequest(deps.tarballs, r.name, r.file, cred);
          await t.guard();
          return { kind: 'artifact', route: t.route };
        }
      }
    },
  };
}
