/**
 * The required_providers extractor, Terraform's canonical constraint
 * strings and the lock file renderer, on their own.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { canonicalConstraints } from '../../../../src/mirrors/terraform/cli/constraint-string.js';
import { lockedVersions, renderLockFile } from '../../../../src/mirrors/terraform/cli/lock-file.js';
import { requiredProviders, requirementsOf } from '../../../../src/mirrors/terraform/cli/required-providers.js';

void describe('requirementsOf', () => {
  void it('reads the object and legacy forms, and nothing outside terraform blocks', () => {
    const text = `
# terraform { required_providers { a = "1.0" } }
provider "aws" { region = "x" }
terraform {
  required_version = ">= 1.0"
  backend "s3" {
    bucket = "terraform {"
  }
  required_providers {
    aws = {
      source  = "hashicorp/aws" // trailing comment
      version = "~> 5.0"
      configuration_aliases = [aws.east, aws.west]
    }
    google = "4.0.0"
    "quoted": 1
  }
}`;
    assert.throws(() => requirementsOf(text, 'f.tf'), /f\.tf:16: expected `name = /);
    const ok = text.replace('    "quoted": 1\n', '');
    assert.deepEqual(
      requirementsOf(ok, 'f.tf').map(({ name, source, version }) => ({ name, source, version })),
      [
        { name: 'aws', source: 'hashicorp/aws', version: '~> 5.0' },
        { name: 'google', source: undefined, version: '4.0.0' },
      ],
    );
  });

  void it('is not fooled by comments, strings, templates and heredocs', () => {
    const text = [
      '/* terraform {',
      '   required_providers { x = "1" } } */',
      'locals {',
      '  a = "}${jsonencode({ b = "}" })}{"',
      '  c = <<-EOT',
      '    terraform { required_providers { y = "1" } }',
      '    EOT',
      '  terraform = { required_providers = 1 }',
      '}',
      'terraform { required_providers { z = { source = "acme/z", version = ">= 1" } } }',
    ].join('\n');
    assert.deepEqual(requirementsOf(text, 'f.tf').map((r) => [r.name, r.source, r.version, r.at]), [['z', 'acme/z', '>= 1', 'f.tf:10']]);
  });

  void it('refuses templates and unterminated constructs, naming the line', () => {
    assert.throws(() => requirementsOf('terraform {\n  required_providers {\n    a = { source = "${var.x}" }\n  }\n}\n', 'f.tf'), /f\.tf:3: required_providers\.a\.source must be a literal string/);
    assert.throws(() => requirementsOf('x = "abc\n', 'f.tf'), /f\.tf:1: unterminated string/);
    assert.throws(() => requirementsOf('/* x', 'f.tf'), /unterminated \/\* comment/);
    assert.throws(() => requirementsOf('terraform {\n', 'f.tf'), /unclosed bracket/);
  });
});

void describe('requiredProviders (a directory)', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'regcache-rp-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  void it('merges files, applies override files last and combines constraints per provider', async () => {
    await writeFile(join(dir, 'a.tf'), 'terraform {\n  required_providers {\n    random = { source = "HashiCorp/Random", version = "~> 3.5" }\n    legacy = "1.2"\n  }\n}\n');
    await writeFile(join(dir, 'b.tf'), 'terraform {\n  required_providers {\n    rnd2 = { source = "registry.terraform.io/hashicorp/random", version = "< 4, >= 3.5.0" }\n    gone = { source = "acme/old" }\n    builtin = { source = "terraform.io/builtin/terraform" }\n  }\n}\n');
    await writeFile(join(dir, 'b_override.tf'), 'terraform {\n  required_providers {\n    gone = { source = "example.com:8443/acme/new" }\n  }\n}\n');
    await writeFile(join(dir, 'notes.txt'), 'terraform { required_providers { no = "1" } }');
    assert.deepEqual(
      (await requiredProviders(dir)).map((p) => [p.address, p.constraints]),
      [
        ['example.com:8443/acme/new', ''],
        ['registry.terraform.io/hashicorp/legacy', '1.2.0'],
        ['registry.terraform.io/hashicorp/random', '>= 3.5.0, ~> 3.5, < 4.0.0'],
      ],
    );
    await writeFile(join(dir, 'c.tf'), 'terraform {\n  required_providers {\n    random = "3.6.0"\n  }\n}\n');
    await assert.rejects(requiredProviders(dir), /c\.tf:3: duplicate required_providers entry "random" \(first at .*a\.tf:3\)/);
  });
});

void describe('canonicalConstraints', () => {
  void it('writes constraints as Terraform records them in lock files', () => {
    assert.equal(canonicalConstraints(['3.6.0']), '3.6.0');
    assert.equal(canonicalConstraints(['= 3.6.0']), '3.6.0');
    assert.equal(canonicalConstraints(['~> 2']), '~> 2.0');
    assert.equal(canonicalConstraints(['~> 1.2.0']), '~> 1.2.0');
    assert.equal(canonicalConstraints(['>= 2', '>= 2.0.0', '>=2.0']), '>= 2.0.0');
    assert.equal(canonicalConstraints(['< 2.0.0', '>= 1.0.0']), '>= 1.0.0, < 2.0.0');
    assert.equal(canonicalConstraints(['!= 1.5.0', '~> 1.0', '>= 1.0.0', '1.0.0', '> 1.0.0']), '> 1.0.0, >= 1.0.0, 1.0.0, ~> 1.0, != 1.5.0');
    assert.equal(canonicalConstraints(['1.0.0-beta.2', '1.0.0']), '1.0.0-beta.2, 1.0.0');
    assert.equal(canonicalConstraints([]), '');
  });
});

void describe('renderLockFile', () => {
  void it('renders Terraform\'s layout, hashes sorted and deduplicated', () => {
    const text = renderLockFile([
      { address: 'registry.terraform.io/hashicorp/null', version: '3.2.2', constraints: '', hashes: ['zh:bb', 'h1:a=', 'zh:aa', 'zh:bb'] },
      { address: 'registry.terraform.io/hashicorp/random', version: '3.6.0', constraints: '~> 3.5', hashes: ['h1:b='] },
    ]);
    assert.equal(
      text,
      [
        '# This file is maintained automatically by "terraform init".',
        '# Manual edits may be lost in future updates.',
        '',
        'provider "registry.terraform.io/hashicorp/null" {',
        '  version = "3.2.2"',
        '  hashes = [',
        '    "h1:a=",',
        '    "zh:aa",',
        '    "zh:bb",',
        '  ]',
        '}',
        '',
        'provider "registry.terraform.io/hashicorp/random" {',
        '  version     = "3.6.0"',
        '  constraints = "~> 3.5"',
        '  hashes = [',
        '    "h1:b=",',
        '  ]',
        '}',
        '',
      ].join('\n'),
    );
    assert.deepEqual([...lockedVersions(text)], [
      ['registry.terraform.io/hashicorp/null', '3.2.2'],
      ['registry.terraform.io/hashicorp/random', '3.6.0'],
    ]);
  });
});
