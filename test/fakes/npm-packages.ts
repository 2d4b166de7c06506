/**
 * Real npm packages for the npm fake origin: gzipped tarballs with
 * `package/package.json` inside, their `dist.integrity` (sha512) and
 * `dist.shasum` (sha1), and the registry documents built from them (the full
 * packument, the abbreviated "corgi" one, dist-tags). `generateNpmPackages`
 * makes N packages with a dependency graph (a benchmark's lock file).
 */
import { createHash } from 'node:crypto';
import { makeTarGz } from './tar-gz.js';

/** One version to publish. */
export interface NpmVersionSpec {
  version: string;
  dependencies?: Record<string, string>;
  /** Adds `package/data.bin` of this many incompressible bytes (a large tarball). */
  dataBytes?: number;
}

/** A package and its versions, oldest first (the last one is `latest`). */
export interface NpmPackageSpec {
  name: string;
  versions: NpmVersionSpec[];
  /** An old package: `dist` has only `shasum` (sha1), no `integrity`. */
  shasumOnly?: boolean;
}

/** A published version as the origin serves it. */
export interface NpmBuiltVersion {
  name: string;
  version: string;
  dependencies: Record<string, string>;
  tarball: Buffer;
  /** `sha512-<base64>`. */
  integrity: string;
  /** Hex sha1 of the tarball. */
  shasum: string;
  /** Origin path of the tarball (`/<name>/-/<base>-<version>.tgz`). */
  path: string;
  published: Date;
}

/** The tarball file name of a version (`@s/x` 1.0.0 → `x-1.0.0.tgz`). */
export function tarballFile(name: string, version: string): string {
  return `${name.slice(name.lastIndexOf('/') + 1)}-${version}.tgz`;
}

/** The registry path of a version's tarball (`/@s/x/-/x-1.0.0.tgz`). */
export function tarballPath(name: string, version: string): string {
  return `/${name}/-/${tarballFile(name, version)}`;
}

/** A real npm tarball: package/package.json and package/index.js. */
export function buildTarball(name: string, version: string, dependencies: Record<string, string> = {}, dataBytes = 0): Buffer {
  const pkg = { name, version, description: `${name} ${version} (generated)`, main: 'index.js', license: 'MIT', dependencies };
  return makeTarGz([
    { name: 'package/package.json', content: Buffer.from(`${JSON.stringify(pkg, null, 2)}\n`) },
    { name: 'package/index.js', content: Buffer.from(`module.exports = ${JSON.stringify(`${name}@${version}`)};\n`) },
    ...(dataBytes > 0 ? [{ name: 'package/data.bin', content: noise(dataBytes, `${name}@${version}`) }] : []),
  ]);
}

/** Deterministic incompressible bytes. */
function noise(size: number, seed: string): Buffer {
  const out: Buffer[] = [];
  for (let i = 0, n = 0; n < size; i++, n += 64) out.push(createHash('sha512').update(`${seed}/${i}`).digest());
  return Buffer.concat(out).subarray(0, size);
}

/** Builds a version with its integrity data. */
export function buildVersion(name: string, spec: NpmVersionSpec, published = new Date()): NpmBuiltVersion {
  const dependencies = spec.dependencies ?? {};
  const tarball = buildTarball(name, spec.version, dependencies, spec.dataBytes ?? 0);
  return {
    name,
    version: spec.version,
    dependencies,
    tarball,
    integrity: `sha512-${createHash('sha512').update(tarball).digest('base64')}`,
    shasum: createHash('sha1').update(tarball).digest('hex'),
    path: tarballPath(name, spec.version),
    published,
  };
}

/** What a packument needs about its package. */
export interface NpmPackumentInput {
  name: string;
  versions: readonly NpmBuiltVersion[];
  distTags: Record<string, string>;
  created: Date;
  modified: Date;
  shasumOnly?: boolean;
}

function dist(p: NpmPackumentInput, v: NpmBuiltVersion, tarballBase: string): Record<string, string> {
  const d: Record<string, string> = { tarball: `${tarballBase}${v.path}`, shasum: v.shasum };
  if (p.shasumOnly !== true) d.integrity = v.integrity;
  return d;
}

/** The full packument (`application/json`), tarball URLs under `tarballBase`. */
export function fullPackument(p: NpmPackumentInput, tarballBase: string): Record<string, unknown> {
  const versions: Record<string, unknown> = {};
  const time: Record<string, string> = { created: p.created.toISOString(), modified: p.modified.toISOString() };
  for (const v of p.versions) {
    versions[v.version] = {
      name: v.name,
      version: v.version,
      description: `${v.name} ${v.version} (generated)`,
      main: 'index.js',
      license: 'MIT',
      dependencies: v.dependencies,
      _id: `${v.name}@${v.version}`,
      dist: dist(p, v, tarballBase),
    };
    time[v.version] = v.published.toISOString();
  }
  return { _id: p.name, name: p.name, description: `${p.name} (generated)`, 'dist-tags': p.distTags, versions, time, readme: `# ${p.name}\n` };
}

/** The abbreviated packument (`application/vnd.npm.install-v1+json`). */
export function abbreviatedPackument(p: NpmPackumentInput, tarballBase: string): Record<string, unknown> {
  const versions: Record<string, unknown> = {};
  for (const v of p.versions) versions[v.version] = { name: v.name, version: v.version, dependencies: v.dependencies, dist: dist(p, v, tarballBase) };
  return { name: p.name, modified: p.modified.toISOString(), 'dist-tags': p.distTags, versions };
}

/**
 * `n` packages `<prefix>-000` … each at 1.0.0, package i depending on
 * i*2+1 and i*2+2 (a binary tree: every package is reachable from
 * `<prefix>-000`, and depth is log2 n). Deterministic.
 */
export function generateNpmPackages(n: number, prefix = 'gen-pkg'): NpmPackageSpec[] {
  const width = String(Math.max(n - 1, 0)).length < 3 ? 3 : String(n - 1).length;
  const nameOf = (i: number): string => `${prefix}-${String(i).padStart(width, '0')}`;
  const specs: NpmPackageSpec[] = [];
  for (let i = 0; i < n; i++) {
    const dependencies: Record<string, string> = {};
    for (const j of [i * 2 + 1, i * 2 + 2]) if (j < n) dependencies[nameOf(j)] = '^1.0.0';
    specs.push({ name: nameOf(i), versions: [{ version: '1.0.0', dependencies }] });
  }
  return specs;
}

/** A project package.json depending on every package given (at its latest version, caret range). */
export function projectManifest(specs: readonly NpmPackageSpec[], name = 'regcache-test-project'): Record<string, unknown> {
  const dependencies: Record<string, string> = {};
  for (const s of specs) dependencies[s.name] = `^${s.versions[s.versions.length - 1]?.version ?? '1.0.0'}`;
  return { name, version: '1.0.0', private: true, dependencies };
}
