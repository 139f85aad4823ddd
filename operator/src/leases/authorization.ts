// The payer's authorisation as a Kubernetes Secret (made by `kubectl pinfi sign`), parsed and
// checked against the lease it claims to pay for. Pure: the caller reads the Secret.
//
// Secret keys:  authorization.json  {"payer","namespace","name","uid","pool","maxAmount","deadline","nonce"}
//               signature           0x… (65-byte EIP-712 signature by the payer)
import { createHash } from 'node:crypto';
import type { V1Secret } from '@kubernetes/client-node';
import type { ComputeLease } from '../api/types.js';
import { recoverAuthorizationSigner, type EscrowDomain, type SignedAuthorization } from '../settlement/index.js';
import { maxTotal } from './validation.js';

export const AUTH_TERMS_KEY = 'authorization.json';
export const AUTH_SIGNATURE_KEY = 'signature';

export type AuthCheck = { ok: true; auth: SignedAuthorization } | { ok: false; reason: string; message: string };

function field(secret: V1Secret, key: string): string | undefined {
  const b64 = secret.data?.[key];
  if (b64 !== undefined) return Buffer.from(b64, 'base64').toString('utf8');
  return secret.stringData?.[key];
}

const BIGINT = /^(0|[1-9][0-9]{0,77})$/;

// Recovering an EIP-712 signer is pure secp256k1 arithmetic in JavaScript (about 1.5 ms here), and every
// lease is checked more than once (on placement, again before funding, after a restart): the
// signer of a (domain, terms, signature) triple is remembered, under a SHA-256 of the triple (44 bytes instead of
// the ~330 of the triple itself: 10,000 leases kept 3 MiB of keys). Bounded, oldest entries first out.
const SIGNERS_KEPT = 20_000;
const signers = new Map<string, string>();

function recoveredSigner(domain: EscrowDomain, auth: SignedAuthorization): string {
  const t = auth.terms;
  const triple = [domain.name, domain.version, domain.chainId, domain.verifyingContract, t.payer, t.namespace, t.name, t.uid, t.pool, t.maxAmount, t.deadline, t.nonce, auth.signature].join('\u0000');
  const key = createHash('sha256').update(triple).digest('base64');
  const known = signers.get(key);
  if (known !== undefined) return known;
  const signer = recoverAuthorizationSigner(domain, auth);
  if (signers.size >= SIGNERS_KEPT) signers.delete(signers.keys().next().value as string);
  signers.set(key, signer);
  return signer;
}

/** Parses the Secret; the message of a refusal never contains the signature. */
export function parseAuthorization(secret: V1Secret): AuthCheck {
  const name = secret.metadata?.name;
  const raw = field(secret, AUTH_TERMS_KEY);
  const signature = field(secret, AUTH_SIGNATURE_KEY)?.trim();
  if (!raw || !signature) return { ok: false, reason: 'AuthorizationMalformed', message: `Secret ${name} needs keys ${AUTH_TERMS_KEY} and ${AUTH_SIGNATURE_KEY}` };
  let t: Record<string, unknown>;
  try {
    t = JSON.parse(raw) as Record<string, unknown>;
  } catch {
    return { ok: false, reason: 'AuthorizationMalformed', message: `Secret ${name}: ${AUTH_TERMS_KEY} is not JSON` };
  }
  const str = (k: string) => (typeof t[k] === 'string' ? (t[k] as string) : undefined);
  const big = (k: string) => {
    const v = t[k];
    const s = typeof v === 'number' && Number.isSafeInteger(v) ? String(v) : typeof v === 'string' ? v : '';
    return BIGINT.test(s) ? BigInt(s) : undefined;
  };
  const [payer, namespace, nm, uid, pool] = ['payer', 'namespace', 'name', 'uid', 'pool'].map(str);
  const [maxAmount, deadline, nonce] = ['maxAmount', 'deadline', 'nonce'].map(big);
  if (!payer || !namespace || !nm || !uid || !pool || maxAmount === undefined || deadline === undefined || nonce === undefined || !/^0x[0-9a-fA-F]{130}$/.test(signature)) {
    return { ok: false, reason: 'AuthorizationMalformed', message: `Secret ${name}: ${AUTH_TERMS_KEY} needs payer, namespace, name, uid, pool, maxAmount, deadline and nonce, and ${AUTH_SIGNATURE_KEY} a 65-byte hex signature` };
  }
  return { ok: true, auth: { terms: { payer, namespace, name: nm, uid, pool, maxAmount, deadline, nonce }, signature } };
}

/** Checks that the authorisation is for exactly this lease, covers its limit, is unexpired and signed by the payer. */
export function checkAuthorization(lease: ComputeLease, secret: V1Secret, domain: EscrowDomain, nowSec: number): AuthCheck {
  const parsed = parseAuthorization(secret);
  if (!parsed.ok) return parsed;
  const t = parsed.auth.terms;
  const m = lease.metadata ?? {};
  const mismatch = (what: string, got: string, want: string): AuthCheck => ({
    ok: false,
    reason: 'AuthorizationMismatch',
    message: `the authorisation is for ${what} ${got}, not this lease's ${want}; sign one for this lease (kubectl pinfi sign)`,
  });
  if (t.namespace !== m.namespace) return mismatch('namespace', t.namespace, m.namespace ?? '');
  if (t.name !== m.name) return mismatch('lease', t.name, m.name ?? '');
  if (t.uid !== m.uid) return mismatch('lease uid', t.uid, m.uid ?? '');
  if (t.pool !== lease.spec.pool) return mismatch('pool', t.pool, lease.spec.pool);
  if (t.payer.toLowerCase() !== lease.spec.payer.address.toLowerCase()) return mismatch('payer', t.payer, lease.spec.payer.address);
  const limit = maxTotal(lease);
  if (t.maxAmount < limit) {
    return { ok: false, reason: 'AuthorizationTooLow', message: `the authorisation allows at most ${t.maxAmount}, below the lease's limit of ${limit}` };
  }
  if (t.deadline <= BigInt(nowSec)) return { ok: false, reason: 'AuthorizationExpired', message: `the authorisation expired at ${new Date(Number(t.deadline) * 1000).toISOString()}` };
  let signer: string;
  try {
    signer = recoveredSigner(domain, parsed.auth);
  } catch {
    return { ok: false, reason: 'AuthorizationMalformed', message: 'the signature cannot be decoded' };
  }
  if (signer.toLowerCase() !== t.payer.toLowerCase()) {
    return { ok: false, reason: 'WrongSigner', message: `the authorisation was signed by ${signer}, not the payer ${t.payer} (or for another chain or escrow)` };
  }
  return parsed;
}
