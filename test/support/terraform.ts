/**
 * Runs the real Terraform CLI in a fresh working directory with a CLI
 * configuration file, trusting a test CA, with no network beyond loopback.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Outcome of one terraform command. */
export interface TerraformRun {
  code: number | null;
  stdout: string;
  stderr: string;
  dir: string;
  ms: number;
}

/** What a run needs. */
export interface TerraformOptions {
  /** Main configuration (`main.tf`). */
  mainTf: string;
  /** CLI configuration (`.terraformrc` content). */
  cliConfig: string;
  /** PEM bundle Terraform must trust (SSL_CERT_FILE). */
  caFile: string;
  args?: string[];
  env?: NodeJS.ProcessEnv;
  /** Reuse a directory (e.g. to re-run init); default: a fresh temp dir. */
  dir?: string;
}

/** `terraform init` (or `args`) in a fresh directory. */
export async function runTerraform(opts: TerraformOptions): Promise<TerraformRun> {
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), 'regcache-tf-')));
  await writeFile(join(dir, 'main.tf'), opts.mainTf);
  const rc = join(dir, '.terraformrc');
  await writeFile(rc, opts.cliConfig);
  const started = Date.now();
  const child = spawn('terraform', opts.args ?? ['init', '-input=false', '-no-color'], {
    cwd: dir,
    env: {
      PATH: process.env.PATH,
      HOME: dir,
      TF_CLI_CONFIG_FILE: rc,
      SSL_CERT_FILE: opts.caFile,
      CHECKPOINT_DISABLE: '1',
      TF_IN_AUTOMATION: '1',
      TF_REGISTRY_DISCOVERY_RETRY: '0',
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, stdout, stderr, dir, ms: Date.now() - started };
}

/** The lock file Terraform wrote in `dir`. */
export function readLockFile(dir: string): Promise<string> {
  return readFile(join(dir, '.terraform.lock.hcl'), 'utf8');
}

/** A `required_providers` block for `providers` ("ns/type" → version constraint). */
export function mainTfFor(providers: Record<string, string>, host = 'registry.terraform.io'): string {
  const lines = Object.entries(providers).map(([addr, version]) => {
    const type = addr.split('/')[1] ?? addr;
    return `    ${type} = {\n      source  = "${host}/${addr}"\n      version = "${version}"\n    }`;
  });
  return `terraform {\n  required_providers {\n${lines.join('\n')}\n  }\n}\n`;
}

/** CLI config that installs every provider through a network mirror. */
export function networkMirrorCliConfig(mirrorUrl: string): string {
  return `provider_installation {\n  network_mirror {\n    url = "${mirrorUrl}"\n  }\n}\n`;
}

/** CLI config that sends a registry host's provider and module API to regcache (registry mode). */
export function hostOverrideCliConfig(regcacheUrl: string, host = 'registry.terraform.io', credentials: Record<string, string> = {}): string {
  const creds = Object.entries(credentials)
    .map(([h, token]) => `credentials "${h}" {\n  token = "${token}"\n}\n`)
    .join('');
  return (
    `host "${host}" {\n  services = {\n` +
    `    "providers.v1" = "${regcacheUrl}/v1/providers/${host}/"\n` +
    `    "modules.v1"   = "${regcacheUrl}/v1/modules/${host}/"\n  }\n}\n` +
    creds
  );
}
