/**
 * Module archives as cache artifacts: http(s) archives fetched once, and
 * git sources shallow-fetched at an exact commit and repacked as a
 * deterministic .tar.gz (shared by every module using that repo@commit).
 * The sha256 of the first fill is recorded; a later re-fill (after a purge)
 * that differs is refused and logged, so an archive never silently changes.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import type { Cache } from '../../core/cache.js';
import { RegcacheError } from '../../core/errors.js';
import type { ArtifactRoute } from '../../core/route.js';
import type { UpstreamClient } from '../../upstream/client.js';
import type { GitRemote } from './git-remote.js';
import { moduleScope, type ModuleId } from './module-reader.js';
import type { ArchiveFormat } from './module-source.js';

const CONTENT_TYPES: Record<ArchiveFormat, string> = {
  zip: 'application/zip',
  'tar.gz': 'application/gzip',
  'tar.bz2': 'application/x-bzip2',
  'tar.xz': 'application/x-xz',
};

/** Creates the archive route builders. */
export function createModuleArchives(deps: { cache: Cache; client: UpstreamClient; git: GitRemote; maxArtifactBytes: number }) {
  const { cache, client } = deps;

  function recorded(key: string): Pick<ArtifactRoute, 'verify' | 'afterCommit'> {
    const recordKey = `${key}.sha256`;
    let last = '';
    return {
      async verify(summary) {
        last = summary.sha256;
        const known = await cache.cached(recordKey);
        if (known && known.body.toString('utf8') !== summary.sha256) {
          throw new RegcacheError('ERR_INTEGRITY_MISMATCH', 'module archive differs from the one first cached for this version');
        }
      },
      async afterCommit() {
        await cache.metadata({
          kind: 'metadata',
          key: recordKey,
          ttlMs: Number.POSITIVE_INFINITY,
          staleIfErrorMs: 0,
          load: () => Promise.resolve({ body: Buffer.from(last), contentType: 'text/plain' }),
        });
      },
    };
  }

  return {
    /** An http(s) archive named by the registry. */
    httpRoute(id: ModuleId, version: string, url: string, format: ArchiveFormat): ArtifactRoute {
      const key = `${moduleScope(id)}/${version}/archive`;
      let holdBack = client.holdBackFor(undefined);
      return {
        kind: 'artifact',
        key,
        contentType: CONTENT_TYPES[format],
        maxBytes: deps.maxArtifactBytes,
        ...recorded(key),
        get holdBack() {
          return holdBack;
        },
        async fetch(signal) {
          const res = await client.open(url, { signal });
          holdBack = client.holdBackFor(res);
          return res.size === undefined ? { body: res.body } : { body: res.body, size: res.size };
        },
      };
    },

    /** A git repository at one commit, repacked deterministically. */
    gitRoute(url: string, sha: string, ref: string | undefined): ArtifactRoute {
      const key = `tf/git-archives/${createHash('sha256').update(url).digest('hex')}/${sha}`;
      return {
        kind: 'artifact',
        key,
        contentType: 'application/gzip',
        maxBytes: deps.maxArtifactBytes,
        ...recorded(key),
        fetch(signal) {
          const body = new PassThrough();
          const sink = async (chunk: Buffer): Promise<void> => {
            if (!body.write(chunk)) await once(body, 'drain');
          };
          deps.git.pack(url, sha, sink, { signal, ...(ref ? { ref } : {}) }).then(
            () => body.end(),
            (err: unknown) => body.destroy(err instanceof Error ? err : new RegcacheError('ERR_UPSTREAM_UNREACHABLE')),
          );
          return Promise.resolve({ body });
        },
      };
    },
  };
}
