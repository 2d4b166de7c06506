/**
 * Scenario 4: `terraform init` wall time for 10 providers (linux_amd64,
 * small zips), each run in a fresh working directory without a plugin
 * cache: straight from the fake registry, through warm regcache (network
 * mirror), and through nginx serving the static mirror. The three modes
 * rotate order every round.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { mainTfFor, networkMirrorCliConfig, runTerraform } from '../../test/support/terraform.js';
import { directCliConfig, initType, NS, VERSION } from '../fixtures.js';
import { roundsOf, type BenchContext } from './context.js';

/** The three ways of installing. */
export type InitMode = 'direct' | 'regcache' | 'nginx';

/** One timed init. */
export interface InitRun {
  mode: InitMode;
  round: number;
  ms: number;
  installed: number;
}

const MODES: InitMode[] = ['direct', 'regcache', 'nginx'];

/** Runs scenario 4. */
export async function terraformInit(ctx: BenchContext): Promise<InitRun[]> {
  const { s, fx } = ctx;
  const providers: Record<string, string> = {};
  for (let i = 1; i <= s.initProviders; i++) providers[`${NS}/${initType(i)}`] = VERSION;
  const mainTf = mainTfFor(providers);
  const setup: Record<InitMode, { cliConfig: string; caFile: string }> = {
    direct: { cliConfig: directCliConfig(fx.fast.url), caFile: fx.fast.caFile },
    regcache: { cliConfig: networkMirrorCliConfig(`${ctx.rcTls.url}/v1/mirror/`), caFile: ctx.rcTls.caPath ?? '' },
    nginx: { cliConfig: networkMirrorCliConfig(`${ctx.nginx.staticHttps}/`), caFile: fx.nginxCaFile },
  };
  const base = join(ctx.work, 'tf-init');
  let n = 0;
  const init = async (mode: InitMode): Promise<{ ms: number; installed: number }> => {
    const dir = join(base, `${mode}-${++n}`);
    await mkdir(dir, { recursive: true });
    const r = await runTerraform({ mainTf, ...setup[mode], dir });
    if (r.code !== 0) throw new Error(`terraform init (${mode}) failed:\n${r.stdout}\n${r.stderr}`);
    const installed = (r.stdout.match(/- Installed /g) ?? []).length;
    if (installed !== s.initProviders) throw new Error(`terraform init (${mode}) installed ${installed} providers:\n${r.stdout}`);
    return { ms: r.ms, installed };
  };
  // Warm-up: fills regcache (zips, metadata, h1) and the page cache for every mode.
  for (const mode of MODES) await init(mode);
  const runs: InitRun[] = [];
  for (const round of roundsOf(s.initRuns)) {
    const order = MODES.map((_, i) => MODES[(i + round - 1) % MODES.length] ?? 'direct');
    for (const mode of order) {
      const r = await init(mode);
      runs.push({ mode, round, ...r });
      ctx.log(`  init r${round} ${mode.padEnd(8)} ${r.ms} ms`);
    }
  }
  return runs;
}
