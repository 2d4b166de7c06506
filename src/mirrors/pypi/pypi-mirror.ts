/**
 * The `pypi` Mirror: the PEP 503 / 691 simple API below the mount.
 *
 *   /simple/<name>/          project index, HTML or JSON by Accept (Vary: Accept);
 *                            a name not in normalized form is redirected (301)
 *   /files/<project>/<file>  a file the project's index names, or its `.metadata`
 *   /pypi/<name>/json        PyPI's JSON API (proxy_json)
 *
 * Names and file names are checked before anything else happens (400 with
 * no upstream request).
 */
import { RegcacheError } from '../../core/errors.js';
import type { Cache } from '../../core/cache.js';
import type { UpstreamClient } from '../../upstream/client.js';
import { credentialOf, type BodyAnswer, type Mirror, type MirrorAnswer, type MirrorRequest } from '../mirror.js';
import { fileRoute, passFile, type FilePolicy, type FileTarget } from './file-route.js';
import { findFile, parseStoredIndex, type ProjectIndex } from './index-doc.js';
import { checkFilename, checkProjectName, fileKey, indexKey, normalizeName, projectJsonKey } from './names.js';
import { projectJsonLoader, rewriteProjectJson } from './project-json.js';
import { CONTENT_TYPES, negotiate, renderHtml, renderJson } from './render.js';
import { docRoute, readDoc, type DocLoader, type DocPolicy } from './stored-doc.js';
import type { UpstreamIndex } from './upstream-index.js';

/** What the mirror is built from. */
export interface PypiMirrorDeps {
  instance: string;
  mount: string;
  cache: Cache;
  client: UpstreamClient;
  upstream: string;
  index: UpstreamIndex;
  docs: DocPolicy;
  files: FilePolicy;
  companions: FilePolicy;
  json: boolean;
  coreMetadata: boolean;
}

const METADATA = '.metadata';

/** Creates the mirror. */
export function createPypiMirror(deps: PypiMirrorDeps): Mirror {
  const upstreamOrigin = new URL(deps.upstream).origin;

  const indexLoader = (project: string): DocLoader => (opts) => deps.index.load(project, opts);

  async function readIndex(project: string, credential: string | undefined): Promise<{ index: ProjectIndex; result: BodyAnswer['result']; private: boolean }> {
    const load = indexLoader(project);
    const doc = await readDoc(deps.cache, docRoute(indexKey(deps.instance, project), load, deps.docs), load, deps.docs, credential);
    return { index: parseStoredIndex(doc.body), result: doc.result, private: doc.private };
  }

  function serverUrl(req: MirrorRequest): string {
    return `${req.baseUrl}${deps.mount}`;
  }

  async function projectPage(req: MirrorRequest, name: string): Promise<MirrorAnswer> {
    checkProjectName(name);
    const project = normalizeName(name);
    if (project !== name) {
      const location = `${serverUrl(req)}/simple/${encodeURIComponent(project)}/`;
      return { kind: 'body', status: 301, contentType: 'text/plain; charset=utf-8', body: Buffer.from(`${location}\n`), result: 'hit', headers: { location } };
    }
    const rep = negotiate(typeof req.headers.accept === 'string' ? req.headers.accept : undefined, deps.json);
    const got = await readIndex(project, credentialOf(req));
    const text = rep === 'json' ? renderJson(got.index, serverUrl(req), deps.coreMetadata) : renderHtml(got.index, serverUrl(req), deps.coreMetadata);
    const headers: Record<string, string> = { vary: 'Accept' };
    headers['cache-control'] = got.private ? 'private, no-store' : 'no-cache';
    return { kind: 'body', status: 200, contentType: CONTENT_TYPES[rep], body: Buffer.from(text), result: got.result, headers };
  }

  /** What the index says about `filename`: a file, or the `.metadata` sidecar of one. */
  function targetIn(index: ProjectIndex, filename: string): { target: FileTarget; companion: boolean } {
    const file = findFile(index, filename);
    if (file) {
      if (file.sha256 === undefined) throw new RegcacheError('ERR_UPSTREAM_BAD_RESPONSE', `the index gives no sha256 for ${filename}; it is not served`);
      return { target: { url: file.url, sha256: file.sha256 }, companion: false };
    }
    if (deps.coreMetadata && filename.endsWith(METADATA)) {
      const of = findFile(index, filename.slice(0, -METADATA.length));
      if (of?.coreMetadata !== undefined) {
        const u = new URL(of.url);
        u.pathname += METADATA;
        return { target: { url: u.href, sha256: of.coreMetadata === true ? undefined : of.coreMetadata }, companion: true };
      }
    }
    throw new RegcacheError('ERR_NOT_FOUND', `${filename} is not in the project's index`);
  }

  async function file(req: MirrorRequest, project: string, filename: string): Promise<MirrorAnswer> {
    checkProjectName(project);
    checkFilename(filename);
    if (normalizeName(project) !== project) throw new RegcacheError('ERR_NOT_FOUND', 'project names in file paths are normalized');
    const key = fileKey(deps.instance, project, filename);
    const companion = filename.endsWith(METADATA);
    if (companion && !deps.coreMetadata) throw new RegcacheError('ERR_NOT_FOUND', 'core metadata sidecars are not served (proxy_core_metadata)');
    const credential = credentialOf(req);
    const stored = await deps.cache.peek(key);
    // A stored file was public and verified: served without reading the index (which may be past its freshness).
    if (stored && (stored.expiresAt === undefined || stored.expiresAt > Date.now())) {
      const policy = companion ? deps.companions : deps.files;
      if (policy.policy !== 'bypass') {
        const lazy = async (): Promise<FileTarget> => targetIn((await readIndex(project, undefined)).index, filename).target;
        return { kind: 'artifact', route: fileRoute(key, filename, deps.client, lazy, policy) };
      }
    }
    const got = await readIndex(project, credential);
    const found = targetIn(got.index, filename);
    const policy = found.companion ? deps.companions : deps.files;
    if (got.private) {
      const auth = new URL(found.target.url).origin === upstreamOrigin ? credential : undefined;
      return passFile(req.method, filename, deps.client, found.target, policy.maxBytes, auth);
    }
    if (policy.policy === 'bypass') return passFile(req.method, filename, deps.client, found.target, policy.maxBytes, undefined);
    return { kind: 'artifact', route: fileRoute(key, filename, deps.client, found.target, policy) };
  }

  async function projectJson(req: MirrorRequest, name: string): Promise<MirrorAnswer> {
    if (!deps.json) throw new RegcacheError('ERR_NOT_FOUND', 'the JSON API is not served (proxy_json)');
    checkProjectName(name);
    const project = normalizeName(name);
    const load = projectJsonLoader(deps.client, deps.upstream, project, deps.docs.maxBytes);
    const doc = await readDoc(deps.cache, docRoute(projectJsonKey(deps.instance, project), load, deps.docs), load, deps.docs, credentialOf(req));
    const headers = { 'cache-control': doc.private ? 'private, no-store' : 'no-cache' };
    return { kind: 'body', status: 200, contentType: 'application/json', body: rewriteProjectJson(doc.body, project, serverUrl(req)), result: doc.result, headers };
  }

  return {
    name: 'pypi',
    prefix: [],
    async handle(req) {
      const [head, a, b, c, ...rest] = req.segments;
      if (rest.length === 0 && c === undefined) {
        if (head === 'simple' && a !== undefined && b === undefined) return projectPage(req, a);
        if (head === 'files' && a !== undefined && b !== undefined) return file(req, a, b);
      }
      if (head === 'pypi' && a !== undefined && b === 'json' && c === undefined && rest.length === 0) return projectJson(req, a);
      if (head === 'simple' && a === undefined) throw new RegcacheError('ERR_NOT_FOUND', 'the project list is not served; ask for /simple/<project>/');
      throw new RegcacheError('ERR_NOT_FOUND', 'not a PyPI simple API path');
    },
  };
}
