/**
 * Where modes are registered: one line per ecosystem. Everything else
 * (config, mounts, admin, status page, retention, metrics) loops over this
 * list; see docs/adding-a-mode.md.
 */
import type { RegisteredMode } from './mode.js';
import { cargoMode } from './cargo/mode.js';
import { fileMode } from './file/mode.js';
import { npmMode } from './npm/mode.js';
import { ociMode } from './oci/mode.js';
import { providerMirrorMode } from './provider-mirror/mode.js';
import { pypiMode } from './pypi/mode.js';
import { terraformMode } from './terraform/mode.js';
import { tofuOciMode } from './tofu-oci/mode.js';

/** Every mode this build of regcache offers. */
export const MODES: readonly RegisteredMode[] = [
  terraformMode,
  fileMode,
  npmMode,
  pypiMode,
  cargoMode,
  ociMode,
  providerMirrorMode,
  tofuOciMode,
];
