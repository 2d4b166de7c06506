/**
 * The request handler of a `file` instance: every path below the mount is
 * a file of the upstream tree. The path is validated first (no upstream is
 * contacted for a refused one), its policy resolved (rules.ts), and then:
 * `bypass` streams from upstream; `immutable` and `revalidate` hand the
 * core an artifact route (single-flight fill, verified before commit,
 * HEAD / Range / ETag from the stored copy). A HEAD of a file that is not
 * cached and not being downloaded is asked of the upstream (a HEAD there
 * too) instead of downloading the whole file to answer it.
 */
import type { Cache } from '../../core/cache.js';
import type { Mirror, MirrorAnswer, MirrorRequest } from '../mirror.js';
import { passThrough } from './bypass.js';
import { contentTypeFor } from './content-type.js';
import { fileRoute } from './file-route.js';
import { filePath } from './paths.js';
import type { PolicyResolver } from './rules.js';
import type { FileUpstreams } from './upstreams.js';

/** What the handler of one instance works with. */
export interface FileMirrorDeps {
  instance: string;
  cache: Cache;
  upstreams: FileUpstreams;
  resolve: PolicyResolver;
  notFoundTtlMs: number;
  maxBytes: number;
}

/** Creates the instance's one Mirror, owning everything below its mount. */
export function createFileMirror(deps: FileMirrorDeps): Mirror {
  return {
    name: 'file',
    prefix: [],
    async handle(req: MirrorRequest): Promise<MirrorAnswer> {
      const fp = filePath(deps.instance, req.segments);
      const policy = deps.resolve(fp.path);
      const contentType = contentTypeFor(fp.path);
      if (policy.policy === 'bypass') return passThrough(req, fp, deps.upstreams, contentType);
      if (req.method === 'HEAD' && !deps.cache.busy(fp.key) && (await deps.cache.peek(fp.key)) === undefined) {
        return passThrough(req, fp, deps.upstreams, contentType);
      }
      const route = fileRoute(fp, policy, { upstreams: deps.upstreams, passed: deps.upstreams.passed(req.headers), contentType, notFoundTtlMs: deps.notFoundTtlMs, maxBytes: deps.maxBytes });
      return { kind: 'artifact', route };
    },
  };
}
