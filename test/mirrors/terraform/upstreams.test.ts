import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRegistryUpstreams, tokenFromEnv } from '../../../src/mirrors/terraform/upstreams.js';

void describe('registry upstreams', () => {
  void it('allows the public registries and configured hosts only', () => {
    const u = createRegistryUpstreams([{ host: 'registry.example.com', url: 'https://127.0.0.1:9443/' }], {});
    assert.equal(u.resolve('REGISTRY.terraform.io').host, 'registry.terraform.io');
    assert.equal(u.resolve('registry.opentofu.org').discoveryBase, 'https://registry.opentofu.org');
    assert.equal(u.resolve('registry.example.com').discoveryBase, 'https://127.0.0.1:9443');
    for (const h of ['evil.example', '169.254.169.254', 'localhost', 'registry.terraform.io.evil.example']) {
      assert.throws(() => u.resolve(h), (e: Error & { code?: string }) => e.code === 'ERR_UNKNOWN_HOST', h);
    }
  });

  void it('takes a host token from TF_TOKEN_<host> when the config gives none, for that host only', () => {
    const env = { TF_TOKEN_registry_example_com: 'from-env', TF_TOKEN_my__registry_example_com: 'dashed' };
    const u = createRegistryUpstreams([{ host: 'registry.example.com' }, { host: 'my-registry.example.com' }, { host: 'cfg.example.com', token: 'from-config' }], env);
    assert.equal(u.resolve('registry.example.com').token, 'from-env');
    assert.equal(u.resolve('my-registry.example.com').token, 'dashed');
    assert.equal(u.resolve('cfg.example.com').token, 'from-config');
    assert.equal(u.resolve('registry.terraform.io').token, undefined);
    assert.equal(tokenFromEnv('host.example:8443', { 'TF_TOKEN_host_example:8443': 'x' }), undefined, 'hosts with a port have no env form');
  });
});
