/**
 * Where the status page (and an instance's public URL) points clients of an
 * instance that has a listener of its own (`bind`): the page's scheme and
 * host with that listener's port.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { listenerBase } from '../../src/http/status-page.js';

void describe('listenerBase', () => {
  void it('keeps the base of an instance on the main listener', () => {
    assert.equal(listenerBase('https://cache.example.com:8443', undefined), 'https://cache.example.com:8443');
  });
  void it('swaps in the port of the instance\'s own listener', () => {
    assert.equal(listenerBase('https://cache.example.com:8443', '0.0.0.0:5000'), 'https://cache.example.com:5000');
    assert.equal(listenerBase('http://127.0.0.1:18080', '127.0.0.1:5001'), 'http://127.0.0.1:5001');
    assert.equal(listenerBase('https://cache.example.com', '[::]:5000'), 'https://cache.example.com:5000');
  });
  void it('a default port for the scheme is left out, as URLs do', () => {
    assert.equal(listenerBase('https://cache.example.com:8443', '0.0.0.0:443'), 'https://cache.example.com');
  });
});
