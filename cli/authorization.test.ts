import { Signature, Wallet } from 'ethers';
import { checkAuthorization, parseAuthorization } from '../operator/src/leases/authorization.js';
import { authorizationTypedData, escrowDomain, signAuthorization } from '../operator/src/settlement/index.js';
import { lease } from './testing/fixtures.js';
import { assertSignable, authorizationSecret, defaultDeadline, leaseTerms, normalizeSignature, parseTypedData } from './authorization.js';

// anvil's well-known account 9: a test key, not a secret.
const payer = new Wallet('0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6');
const domain = escrowDomain(31337n, `0x${'e'.repeat(40)}`);
const NOW = Date.parse('2026-01-01T00:10:00Z') / 1000;

test('the Secret it makes is one the operator accepts for exactly that lease', async () => {
  const l = lease('train');
  const terms = leaseTerms(l, { deadline: defaultDeadline(l, NOW), nonce: 7n });
  expect(terms.maxAmount).toBe(5_000_000n); // the lease's limit
  const secret = authorizationSecret(l, await signAuthorization(payer, domain, terms));
  expect(secret.metadata?.name).toBe('train-auth');
  expect(secret.metadata?.labels).toEqual({ 'pinfi.io/authorization': 'true' });
  expect(secret.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'ComputeLease', name: 'train', uid: 'uid-1' });
  expect(checkAuthorization(l, secret, domain, NOW)).toMatchObject({ ok: true });
  const parsed = parseAuthorization(secret);
  expect(parsed.ok && parsed.auth.terms).toEqual(terms);
  // …and not for a lease of the same name with another uid.
  expect(checkAuthorization(lease('train', { uid: 'uid-2' }), secret, domain, NOW)).toMatchObject({ ok: false, reason: 'AuthorizationMismatch' });
});

test('the default deadline is an hour past the last moment the lease may be funded', () => {
  expect(defaultDeadline(lease('x', { created: '2026-01-01T00:00:00Z' }), NOW)).toBe(BigInt(Date.parse('2026-01-01T02:00:00Z') / 1000));
  expect(defaultDeadline(lease('x', { deadline: '2026-01-02T00:00:00Z' }), NOW)).toBe(BigInt(Date.parse('2026-01-02T01:00:00Z') / 1000));
});

test('typed data printed for a wallet reads back to the same domain and terms; its signature verifies', async () => {
  const l = lease('ext');
  const terms = leaseTerms(l, { deadline: 1_800_000_000n, nonce: 12345678901234567890n });
  const typed = JSON.parse(JSON.stringify(authorizationTypedData(domain, terms))) as ReturnType<typeof authorizationTypedData>;
  const back = parseTypedData(JSON.stringify(typed));
  expect(back.terms).toEqual(terms);
  expect(back.domain).toEqual(domain);
  const { EIP712Domain: _d, ...types } = typed.types;
  const sig = await payer.signTypedData(typed.domain, types, typed.message);
  const secret = authorizationSecret(l, { terms: back.terms, signature: normalizeSignature(sig) });
  expect(checkAuthorization(l, secret, back.domain, NOW)).toMatchObject({ ok: true });
});

test('typed data that is not a PinFi authorisation is refused', () => {
  expect(() => parseTypedData('not json')).toThrow(/not JSON/);
  expect(() => parseTypedData(JSON.stringify({ primaryType: 'Permit', domain: {}, message: {} }))).toThrow(/not a PinFi lease authorisation/);
});

test('wallet signatures are normalised to 65 bytes with v 27/28', async () => {
  const sig = Signature.from(await payer.signMessage('x'));
  const v01 = `${sig.r}${sig.s.slice(2)}${(sig.v - 27).toString(16).padStart(2, '0')}`;
  expect(normalizeSignature(v01)).toBe(sig.serialized);
  expect(normalizeSignature(sig.compactSerialized)).toBe(sig.serialized);
  expect(() => normalizeSignature('0x1234')).toThrow(/not a 65-byte/);
});

test.each([
  ['Active', /funded already/], ['Settled', /has ended/], ['Failed', /has ended/],
])('a %s lease has nothing to sign', (phase, msg) => expect(() => assertSignable(lease('x', { phase }))).toThrow(msg));

test('a lease that is still waiting can be signed', () => {
  for (const phase of [undefined, 'Pending', 'Waiting', 'Quoted', 'Reserved']) expect(() => assertSignable(lease('x', { ...(phase ? { phase } : {}) }))).not.toThrow();
});
