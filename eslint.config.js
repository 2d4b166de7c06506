// Type-aware lint: floating promises are bugs in a streaming server.
// The layering of src/ (docs/architecture.md) is enforced here, not only described:
// each layer may import only the layers below it, and no module takes part in an import cycle.
import js from '@eslint/js';
import { importX } from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import tseslint from 'typescript-eslint';

/** Imports a layer may not make, as no-restricted-imports patterns with the reason. */
const forbid = (groups, message) => ({ group: groups, message });
const SERVER = ['**/http/*', '**/cluster/*', '**/cli/*', '**/app.js', '**/app-instances.js'];
const BACKENDS = ['**/storage/fs/*', '**/storage/s3/*', '**/coordination/*'];
const CONFIG_LOADING = ['**/config/schema.js', '**/config/load.js', '**/config/env.js', '**/config/instances.js', '**/config/cache-proxy.js'];

const layer = (files, patterns) => ({ files, rules: { 'no-restricted-imports': ['error', { patterns }] } });

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'data/**', 'eslint.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/extensions': ['.ts', '.js'],
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/**/*.ts'],
    rules: { 'import-x/no-cycle': ['error', { ignoreExternal: true }] },
  },
  // core: the cache engine and the Store contract; no mode, no server, no backend, no HTTP library.
  layer(['src/core/**/*.ts'], [
    forbid(['../*', '!../core/*'], 'core imports nothing outside core (docs/architecture.md)'),
    forbid(['undici', 'node:http', 'node:https', 'pino', 'prom-client'], 'core speaks no HTTP and knows no logger or metrics library: it emits events'),
  ]),
  // storage backends and outbound HTTP sit on core only.
  layer(['src/storage/**/*.ts', 'src/upstream/**/*.ts', 'src/coordination/**/*.ts'], [
    forbid([...SERVER, '**/mirrors/*', '**/mirrors/**', '**/ops/*', ...CONFIG_LOADING], 'storage, upstream and coordination sit on core only'),
  ]),
  // access: private scopes, credentials, signed URLs, shared by every mode; it knows no mode.
  layer(['src/access/**/*.ts'], [
    forbid([...SERVER, '**/mirrors/*', '**/mirrors/**', '**/ops/*', ...BACKENDS, ...CONFIG_LOADING], 'the access layer sits on core and upstream; modes use it, it uses no mode'),
  ]),
  // modes: the contract, core, upstream, access and config value types; never the server or a backend.
  // (A mode's own cli/ folder is allowed by name; the command line itself is fenced off by path below.)
  layer(['src/mirrors/**/*.ts'], [
    forbid([...SERVER.filter((p) => p !== '**/cli/*'), ...BACKENDS, '**/ops/*', ...CONFIG_LOADING], 'a mode imports core, upstream, access and config value types only, never server internals or storage backends'),
  ]),
  // The command line's client kit (src/cli/kit/) is what modes' commands build on; the rest of src/cli is off limits to modes,
  // and the kit itself stands on nothing but node and undici, so a mode's command never loads the server.
  {
    files: ['src/**/*.ts'],
    rules: {
      'import-x/no-restricted-paths': ['error', {
        zones: [
          { target: './src/mirrors', from: './src/cli', except: ['./kit'], message: 'a mode\'s commands use the client kit (src/cli/kit/) only' },
          { target: './src/cli/kit', from: './src', except: ['./cli/kit'], message: 'the client kit imports nothing from regcache outside src/cli/kit/' },
        ],
      }],
    },
  },
  // config: value types and the loader; it reads mode schemas through the registry, nothing else.
  layer(['src/config/**/*.ts'], [forbid([...SERVER, ...BACKENDS, '**/ops/*', '**/core/*', '**/upstream/*'], 'config validates; it runs nothing')]),
  // ops (logs, metrics, retention, jobs) subscribe to core events; they never reach into the server.
  layer(['src/ops/**/*.ts'], [forbid([...SERVER, ...BACKENDS], 'ops subscribes to events; it imports no server code and no backend')]),
  // the HTTP server mounts modes and endpoints; the composition root (app.ts) picks backends.
  layer(['src/http/**/*.ts'], [forbid(['**/cluster/*', '**/cli/*', '**/app.js', '**/app-instances.js', ...BACKENDS], 'the server imports no backend and no process management')]),
);
