/**
 * Tag policies with skopeo against docker-registry: under `revalidate` a
 * tag moved upstream becomes visible once `fresh_for` passed (not before),
 * the revalidation is a HEAD (an unchanged tag costs no GET), and with the
 * upstream down the stored tag is served stale and the pull succeeds;
 * `immutable` never asks again; `bypass` stores nothing and asks every time.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { counts, inspectRaw, pull, startOciCache, startUpstream, type OciCache, type Upstream } from './support.js';

const sha = (b: string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const AMD = [{ os: 'linux', architecture: 'amd64' }];
/** A little more than the instance's fresh_for. */
const PAST_FRESH_MS = 1300;

let up: Upstream;
let rc: OciCache;

void describe('oci tag policies', { timeout: 300_000 }, () => {
  before(async () => {
    up = await startUpstream();
    rc = await startOciCache(up.relay.url, {
      default_policy: 'revalidate',
      fresh_for: '1s',
      busy_policy: 'stale',
      rules: [
        { match: 'pinned/**', policy: 'immutable' },
        { match: 'passthru/**', policy: 'bypass' },
      ],
    });
  });
  after(async () => {
    await rc?.stop();
    await up?.close();
  });

  void it('a tag moved upstream is visible after fresh_for, revalidated with HEAD + Docker-Content-Digest', async () => {
    const a = await up.push('library/moving', 'v1', AMD, 'moving-a');
    const first = await inspectRaw(rc.host, 'library/moving:v1');
    assert.equal(sha(first.stdout), a.top, first.stderr);
    const b = await up.push('library/moving', 'v1', AMD, 'moving-b');
    assert.notEqual(a.top, b.top);
    const c0 = counts(up.relay, 'library/moving');
    const fresh = await inspectRaw(rc.host, 'library/moving:v1');
    assert.equal(sha(fresh.stdout), a.top, 'within fresh_for: the stored tag, no upstream request');
    assert.deepEqual(counts(up.relay, 'library/moving'), c0);
    await sleep(PAST_FRESH_MS);
    const moved = await inspectRaw(rc.host, 'library/moving:v1');
    assert.equal(sha(moved.stdout), b.top, 'after fresh_for: the new manifest');
    const c1 = counts(up.relay, 'library/moving');
    assert.equal(c1.manifestHead - c0.manifestHead, 1, 'one HEAD revalidated the tag');
    assert.equal(c1.manifestGet - c0.manifestGet, 1, 'one GET fetched the new manifest by digest');
    assert.equal(up.relay.count('GET', new RegExp(`/manifests/${b.top}$`), 200), 1, 'that GET was by digest');
  });

  void it('an unchanged tag past fresh_for costs one HEAD and no GET', async () => {
    await up.push('library/steady', 'v1', AMD, 'steady');
    assert.equal((await inspectRaw(rc.host, 'library/steady:v1')).code, 0);
    const c0 = counts(up.relay, 'library/steady');
    for (let i = 0; i < 2; i++) {
      await sleep(PAST_FRESH_MS);
      const r = await inspectRaw(rc.host, 'library/steady:v1');
      assert.equal(r.code, 0, r.stderr);
    }
    const c1 = counts(up.relay, 'library/steady');
    assert.equal(c1.manifestHead - c0.manifestHead, 2, 'one HEAD per revalidation');
    assert.equal(c1.manifestGet - c0.manifestGet, 0, 'no manifest GET');
  });

  void it('with the upstream down, the stored tag is served stale and the whole pull succeeds', async () => {
    const l = await up.push('library/offline', 'v1', [...AMD, { os: 'linux', architecture: 'arm64' }], 'offline');
    const cold = await pull(rc.host, 'library/offline:v1');
    assert.equal(cold.code, 0, cold.stderr);
    await sleep(PAST_FRESH_MS);
    up.relay.down = true;
    try {
      const before = up.relay.log.length;
      const off = await pull(rc.host, 'library/offline:v1');
      assert.equal(off.code, 0, off.stderr);
      assert.ok(up.relay.log.length > before, 'regcache did try the upstream (the tag was past fresh_for)');
      const raw = await inspectRaw(rc.host, 'library/offline:v1');
      assert.equal(sha(raw.stdout), l.top);
    } finally {
      up.relay.down = false;
    }
  });

  void it('a tag of an immutable repository is never asked again', async () => {
    const a = await up.push('pinned/app', 'v1', AMD, 'pinned-a');
    assert.equal(sha((await inspectRaw(rc.host, 'pinned/app:v1')).stdout), a.top);
    await up.push('pinned/app', 'v1', AMD, 'pinned-b');
    await sleep(PAST_FRESH_MS);
    const c0 = counts(up.relay, 'pinned/app');
    assert.equal(sha((await inspectRaw(rc.host, 'pinned/app:v1')).stdout), a.top);
    assert.deepEqual(counts(up.relay, 'pinned/app'), c0);
  });

  void it('a bypass repository is asked every time and still pulls', async () => {
    const l = await up.push('passthru/app', 'v1', AMD, 'passthru');
    for (let i = 0; i < 2; i++) assert.equal(sha((await inspectRaw(rc.host, 'passthru/app:v1')).stdout), l.top);
    assert.equal(counts(up.relay, 'passthru/app').manifestGet, 2);
    const p1 = await pull(rc.host, 'passthru/app:v1');
    assert.equal(p1.code, 0, p1.stderr);
    const blobs = counts(up.relay, 'passthru/app').blobGet;
    const p2 = await pull(rc.host, 'passthru/app:v1');
    assert.equal(p2.code, 0, p2.stderr);
    assert.equal(counts(up.relay, 'passthru/app').blobGet - blobs, 3, 'config and both layers streamed again: nothing stored');
  });
});
