// The payer's authorisation as typed data, its signature and the ids derived from it (pure; the integration tests
// check the same values against the contract).
import { Wallet } from 'ethers';
import {
  authorizationDigest, authorizationTypedData, escrowDomain, leaseIdOf, poolIdOf, recoverAuthorizationSigner, signAuthorization,
} from '../../operator/src/settlement/authorization.js';
import { formatAmount, parseAmount } from '../../operator/src/settlement/money.js';
import type { AuthorizationTerms } from '../../operator/src/settlement/types.js';

const payer = new Wallet('0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d');
const domain = escrowDomain(31337, '0x5fbdb2315678afecb367f032d93f642f64180aa3');
const terms: AuthorizationTerms = {
  payer: payer.address, namespace: 'team-a', name: 'train', uid: 'c0ffee', pool: 'a100', maxAmount: 15_000_000n, deadline: 1_800_000_000n, nonce: 1n,
};

test('the typed data is a complete eth_signTypedData_v4 payload', () => {
  const td = authorizationTypedData(domain, terms);
  expect(td.primaryType).toBe('LeaseAuthorization');
  expect(td.types.EIP712Domain!.map((f) => f.name)).toEqual(['name', 'version', 'chainId', 'verifyingContract']);
  expect(td.domain).toMatchObject({ name: 'PinFi LeaseEscrow', version: '1', chainId: '0x7a69' });
  expect(td.message).toMatchObject({ namespace: 'team-a', name: 'train', uid: 'c0ffee', pool: 'a100' });
});

test('sign and recover round-trip; the digest changes with every bound field', async () => {
  const auth = await signAuthorization(payer, domain, terms);
  expect(recoverAuthorizationSigner(domain, auth)).toBe(payer.address);
  const base = authorizationDigest(domain, terms);
  const variants: Partial<AuthorizationTerms>[] = [{ namespace: 'team-b' }, { name: 'x' }, { uid: 'y' }, { pool: 'h100' }, { maxAmount: 1n }, { deadline: 1n }, { nonce: 2n }];
  for (const v of variants) expect(authorizationDigest(domain, { ...terms, ...v })).not.toBe(base);
  expect(authorizationDigest(escrowDomain(1, domain.verifyingContract), terms)).not.toBe(base);
});

test('lease ids are deterministic and distinguish (namespace, name, uid) without ambiguity', () => {
  expect(leaseIdOf(terms)).toBe(leaseIdOf({ ...terms }));
  expect(leaseIdOf({ namespace: 'a', name: 'bc', uid: 'd' })).not.toBe(leaseIdOf({ namespace: 'ab', name: 'c', uid: 'd' }));
  expect(poolIdOf('a100')).toMatch(/^0x[0-9a-f]{64}$/);
});

test.each([
  { amount: 12_500_000n, text: '12.5 USDC' },
  { amount: 2_000_000n, text: '2 USDC' },
  { amount: 1n, text: '0.000001 USDC' },
  { amount: 0n, text: '0 USDC' },
])('formatAmount($amount) = $text', ({ amount, text }) => {
  expect(formatAmount(amount, { symbol: 'USDC', decimals: 6 })).toBe(text);
  expect(parseAmount(text.split(' ')[0]!, 6)).toBe(amount);
});
