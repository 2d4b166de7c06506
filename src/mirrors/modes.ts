/**
 * Where modes are registered: one line per ecosystem. Everything else
 * (config, mounts, admin, status page, retention, metrics) loops over this
 * list; see docs/adding-a-mode.md.
 */
import type { RegisteredMode } from './mode.js';
import { fileMode } from './file/mode.js';
import { npmMode } from './npm/mode.js';
import { ociMode } from './oci/mode.js';
import { terraformMode } from './terraform/mode.js';

/** Every mode this build of regcache offers. */
export const MODES: readonly RegisteredMode[] = [
  terraformMode,
  fileMode,
  npmMode,
  ociMode,
];
