/**
 * Reading the admin listing (GET /admin/cache, `regcache ls --json`) in
 * tests: the cached versions of a provider and their platforms.
 */
import type { CacheListing } from '../../src/http/admin-listing.js';

/** version → platforms of a provider ("registry.terraform.io/hashicorp/random") in a listing. */
export function providerVersions(listing: CacheListing, provider: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const inst of listing.instances) {
    for (const it of inst.items) if (it.kind === 'provider' && it.name === provider) out[it.version] = it.variants;
  }
  return out;
}

/** Every cached provider name in a listing. */
export function providerNames(listing: CacheListing): string[] {
  return [...new Set(listing.instances.flatMap((i) => i.items.filter((it) => it.kind === 'provider').map((it) => it.name)))];
}
