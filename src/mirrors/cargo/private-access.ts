/**
 * Who may see what of a cargo instance. Privacy is decided per scope (one
 * crate, or the registry's config.json) from what the store holds, through
 * the shared access layer (src/access/): a scope is private once upstream
 * refused it to an anonymous request and accepted a client's credential,
 * recorded by its marker before anything of it is stored. A private scope
 * is served only to a client whose credential upstream accepted recently
 * (checked within a per-scope budget, remembered briefly under a hash).
 * Client credentials are used only when `auth_required` is set (cargo sends
 * its token only then) and only towards the upstream's own origin.
 */
import { createCheckBudget } from '../../access/check-budget.js';
import { createCredentialChecks } from '../../access/credential-checks.js';
import { createScopePrivacy, type ScopePrivacy } from '../../access/scope-privacy.js';
import type { Cache } from '../../core/cache.js';
import type { UpstreamClient } from '../../upstream/client.js';

/** How long upstream's acceptance of a credential is trusted without asking again. */
const AUTH_CACHE_TTL_MS = 60_000;
/** Refused upstream credential tries per scope and minute. */
const CHECKS_PER_MINUTE = 30;

/** The access decisions of one instance. */
export interface CargoAccess {
  readonly privacy: ScopePrivacy;
  /** Whether client credentials are used at all (`auth_required`). */
  readonly enabled: boolean;
  /** Resolves when `cred` may see private `scope` (checked with a GET of `url`), else throws the scope's refusal. */
  authorize(scope: string, cred: string | undefined, url: string): Promise<void>;
  /** Takes one try of a new credential in `scope`; false when the budget is spent. */
  tryCredential(scope: string): boolean;
  /** Returns a try (upstream accepted the credential, or never answered). */
  giveBack(scope: string): void;
  /** Records that upstream just accepted `cred` for `scope`. */
  accepted(scope: string, cred: string): void;
}

/** Creates the access decisions over the cache and the instance's client. */
export function createCargoAccess(cache: Cache, client: UpstreamClient, enabled: boolean): CargoAccess {
  const privacy = createScopePrivacy(cache);
  const budget = createCheckBudget(CHECKS_PER_MINUTE);
  const checks = createCredentialChecks({ authCacheTtlMs: AUTH_CACHE_TTL_MS, budget });
  return {
    privacy,
    enabled,
    async authorize(scope, cred, url) {
      if (cred === undefined || !enabled) throw await privacy.refusal(scope);
      await checks.authorize(scope, cred, () => privacy.refusal(scope), async (credential) => {
        const res = await client.open(url, { authorization: credential });
        res.body.destroy();
      });
    },
    tryCredential: (scope) => budget.take(scope),
    giveBack: (scope) => budget.giveBack(scope),
    accepted: (scope, cred) => checks.accepted(scope, cred),
  };
}
