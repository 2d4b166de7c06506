import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newestMatching, parseConstraint } from '../../../src/mirrors/terraform/constraints.js';
import { createPolicy } from '../../../src/mirrors/terraform/policy.js';

void describe('Terraform version constraints', () => {
  const cases: Array<[string, string[], string[]]> = [
    ['3.6.0', ['3.6.0'], ['3.6.1', '3.5.0']],
    ['= 3.6.0', ['3.6.0'], ['3.6.1']],
    ['!= 1.3.0', ['1.2.0', '1.4.0'], ['1.3.0']],
    ['>= 1.0, < 2.0', ['1.0.0', '1.9.9'], ['0.9.0', '2.0.0']],
    ['~> 1.2', ['1.2.0', '1.9.0'], ['1.1.9', '2.0.0']],
    ['~> 1.2.3', ['1.2.3', '1.2.9'], ['1.2.2', '1.3.0']],
    ['~> 1', ['1.0.0', '1.9.0'], ['2.0.0']],
    ['> 1.0.0', ['1.0.1'], ['1.0.0', '1.1.0-beta1']],
    ['1.1.0-beta1', ['1.1.0-beta1'], ['1.1.0']],
  ];
  for (const [c, yes, no] of cases) {
    void it(c, () => {
      const p = parseConstraint(c);
      for (const v of yes) assert.ok(p(v), `${c} should match ${v}`);
      for (const v of no) assert.ok(!p(v), `${c} should not match ${v}`);
    });
  }
  void it('rejects malformed constraints', () => {
    for (const c of ['', '>=', '~> x', '1.0,', 'latest', '>> 1.0']) assert.throws(() => parseConstraint(c), /invalid version constraint/, c);
  });
  void it('picks the newest matching version', () => {
    assert.equal(newestMatching(['1.0.0', '1.10.0', '1.9.0', '2.0.0'], parseConstraint('~> 1.0')), '1.10.0');
    assert.equal(newestMatching(['1.0.0'], parseConstraint('>= 2')), undefined);
  });
});

void describe('allow/deny policy', () => {
  const policy = createPolicy(
    ['registry.terraform.io/hashicorp/*', { source: 'registry.terraform.io/acme/aws', versions: '~> 2.0' }],
    ['registry.terraform.io/hashicorp/badthing', { source: 'registry.terraform.io/hashicorp/aws', versions: '< 4.0' }],
  );
  void it('allows listed namespaces (providers and modules) and denies others', () => {
    policy.check('registry.terraform.io/hashicorp/random');
    policy.check('registry.terraform.io/hashicorp/consul/aws');
    assert.throws(() => policy.check('registry.terraform.io/evil/thing'), (e: Error & { code?: string }) => e.code === 'ERR_FORBIDDEN' && /allow list/.test(e.message));
  });
  void it('deny wins over allow', () => {
    assert.throws(() => policy.check('registry.terraform.io/hashicorp/badthing'), /denied by policy/);
  });
  void it('applies version constraints to single versions and lists', () => {
    policy.check('registry.terraform.io/hashicorp/aws');
    assert.throws(() => policy.check('registry.terraform.io/hashicorp/aws', '3.9.0'), /denied/);
    policy.check('registry.terraform.io/hashicorp/aws', '5.0.0');
    assert.deepEqual(policy.filter('registry.terraform.io/hashicorp/aws', ['3.0.0', '4.0.0', '5.1.0']), ['4.0.0', '5.1.0']);
    assert.deepEqual(policy.filter('registry.terraform.io/acme/aws', ['1.9.0', '2.1.0', '3.0.0']), ['2.1.0']);
  });
  void it('an empty policy allows everything', () => {
    const open = createPolicy([], []);
    assert.equal(open.active, false);
    open.check('anything.example/x/y', '1.0.0');
  });
});
