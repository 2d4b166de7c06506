/**
 * The outbound policy's address and URL rules as a table: every spelling of
 * a loopback, private, link-local, carrier-grade NAT, metadata or other
 * non-public address is refused by default, public neighbours of each range
 * are not, and the allowances (allowAddresses, allowPrivateAddresses,
 * allowHttp, configured http origins) lift exactly what they name.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RegcacheError } from '../../src/core/errors.js';
import { createOutboundPolicy, type OutboundPolicySettings } from '../../src/upstream/policy.js';

const policy = (s: Partial<OutboundPolicySettings> = {}) => createOutboundPolicy({ allowHttp: false, allowPrivateAddresses: false, allowAddresses: [], configuredUrls: [], ...s });

const REFUSED: Array<[string, RegExp]> = [
  ['127.0.0.1', /loopback/],
  ['127.255.255.254', /loopback/],
  ['::1', /loopback/],
  ['0.0.0.0', /unspecified/],
  ['0.1.2.3', /unspecified/],
  ['::', /unspecified/],
  ['10.0.0.1', /private/],
  ['172.16.0.1', /private/],
  ['172.31.255.255', /private/],
  ['192.168.1.1', /private/],
  ['fd00::1', /private/],
  ['fc00::1', /private/],
  ['fd00:ec2::254', /private/],
  ['100.64.0.1', /carrier-grade NAT/],
  ['100.127.255.255', /carrier-grade NAT/],
  ['169.254.169.254', /link-local/],
  ['fe80::1', /link-local/],
  ['fe80::1%eth0', /link-local/],
  ['::ffff:127.0.0.1', /loopback/],
  ['::ffff:7f00:1', /loopback/],
  ['0:0:0:0:0:ffff:a9fe:a9fe', /link-local/],
  ['::ffff:10.1.2.3', /private/],
  ['::127.0.0.1', /loopback/],
  ['64:ff9b::169.254.169.254', /link-local/],
  ['64:ff9b:1::1', /reserved/],
  ['2002:7f00:1::1', /loopback/],
  ['2002:c0a8:101::', /private/],
  ['192.0.0.192', /reserved/],
  ['198.18.0.1', /reserved/],
  ['240.0.0.1', /reserved/],
  ['255.255.255.255', /reserved/],
  ['224.0.0.1', /multicast/],
  ['ff02::1', /multicast/],
];

const PUBLIC = ['8.8.8.8', '1.1.1.1', '100.63.255.255', '100.128.0.0', '172.15.255.255', '172.32.0.0', '169.253.255.255', '11.0.0.0', '2606:4700:4700::1111', '::ffff:8.8.8.8', '64:ff9b::808:808', '2002:808:808::1'];

function refusedCode(fn: () => void): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof RegcacheError);
    return err.code;
  }
  return 'allowed';
}

void describe('outbound policy: addresses', () => {
  void it('refuses every non-public address by default, naming why', () => {
    const p = policy();
    for (const [address, why] of REFUSED) assert.match(p.addressProblem(address) ?? 'allowed', why, address);
  });

  void it('allows public addresses, including the neighbours of each refused range', () => {
    const p = policy();
    for (const address of PUBLIC) assert.equal(p.addressProblem(address), undefined, address);
  });

  void it('allowAddresses lifts exactly the named blocks, in any spelling of their addresses', () => {
    const p = policy({ allowAddresses: ['127.0.0.1', '10.1.0.0/16', 'fd12::/16'] });
    for (const ok of ['127.0.0.1', '::ffff:127.0.0.1', '10.1.255.3', 'fd12:3::4']) assert.equal(p.addressProblem(ok), undefined, ok);
    for (const no of ['127.0.0.2', '10.2.0.1', 'fd13::1', '::1', '169.254.169.254']) assert.notEqual(p.addressProblem(no), undefined, no);
  });

  void it('allowPrivateAddresses lifts the address rule altogether', () => {
    const p = policy({ allowPrivateAddresses: true });
    for (const [address] of REFUSED) assert.equal(p.addressProblem(address), undefined, address);
  });

  void it('rejects malformed allowAddresses at start', () => {
    assert.throws(() => policy({ allowAddresses: ['10.0.0.0/33'] }), /allowAddresses/);
    assert.throws(() => policy({ allowAddresses: ['example.com'] }), /allowAddresses/);
  });
});

void describe('outbound policy: URLs', () => {
  void it('refuses literal internal hosts in any URL spelling', () => {
    const p = policy();
    for (const url of ['https://127.0.0.1/', 'https://2130706433/', 'https://0x7f.1/', 'https://[::ffff:127.0.0.1]/', 'https://[::1]:8443/', 'https://169.254.169.254/latest/meta-data/', 'https://0/', 'https://[fd00:ec2::254]/']) {
      assert.equal(refusedCode(() => p.checkUrl(new URL(url))), 'ERR_UPSTREAM_REFUSED', url);
    }
    assert.equal(refusedCode(() => p.checkUrl(new URL('https://registry.terraform.io/v1/'))), 'allowed', 'names pass here; their addresses are checked at connect');
  });

  void it('plain http only with allowHttp or to a configured http origin (exact scheme, host and port)', () => {
    const p = policy({ configuredUrls: ['http://registry.internal:8080/base', 'https://secure.example'] });
    assert.equal(refusedCode(() => p.checkUrl(new URL('http://registry.internal:8080/other'))), 'allowed');
    for (const url of ['http://registry.internal/', 'http://registry.internal:8081/', 'http://secure.example/', 'http://cdn.example/file.zip']) {
      assert.equal(refusedCode(() => p.checkUrl(new URL(url))), 'ERR_UPSTREAM_REFUSED', url);
    }
    assert.equal(refusedCode(() => policy({ allowHttp: true }).checkUrl(new URL('http://cdn.example/file.zip'))), 'allowed');
  });

  void it('refuses other schemes and user-info', () => {
    const p = policy({ allowHttp: true });
    for (const url of ['ftp://example.com/x', 'file:///etc/passwd', 'https://user:pw@example.com/', 'https://user@example.com/']) {
      assert.equal(refusedCode(() => p.checkUrl(new URL(url))), 'ERR_UPSTREAM_REFUSED', url);
    }
  });

  void it('tells configured origins from tolerated ones', () => {
    const p = policy({ configuredUrls: ['https://registry.example/v1'] });
    assert.equal(p.configured('https://registry.example/files/x.zip'), true);
    assert.equal(p.configured('https://registry.example:444/files/x.zip'), false);
    assert.equal(p.configured('https://cdn.example/x.zip'), false);
  });
});
