// The payer's authorisation for one lease, as the CLI makes it: the EIP-712 terms (the lease's
// uid is part of them), the Secret the operator reads (operator/src/leases/authorization.ts: keys
// authorization.json and signature), the typed data an external wallet signs and its signature
// read back. Whatever the path, the Secret is checked with the operator's own checkAuthorization
// before it is written, so a Secret the operator would refuse is never created.
import { randomBytes } from 'node:crypto';
import { Signature, getAddress, type Wallet } from 'ethers';
import type { V1Secret } from '@kubernetes/client-node';
import { GPU_POOLS } from '../operator/src/api/resources.js';
import { API_VERSION, type ComputeLease, type GpuPool } from '../operator/src/api/types.js';
import { AUTH_SIGNATURE_KEY, AUTH_TERMS_KEY, checkAuthorization } from '../operator/src/leases/authorization.js';
import { maxTotal, waitDeadlineMs } from '../operator/src/leases/validation.js';
import { RESOURCES } from '../operator/src/kube/resources.js';
import {
  ESCROW_DOMAIN_NAME, ESCROW_DOMAIN_VERSION, escrowDomain, readBalances, signAuthorization, tokenInfo,
  type authorizationTypedData, type AuthorizationTerms, type EscrowDomain, type SignedAuthorization, type TokenInfo,
} from '../operator/src/settlement/index.js';
import { showAmount } from './amounts.js';
import { escrowAddress, type Chain } from './chain.js';
import { CliError } from './errors.js';
import type { Io } from './io.js';
import type { Kube } from './kube.js';

export const AUTHORIZATION_LABEL = 'pinfi.io/authorization';
const SIGNABLE = new Set([undefined, 'Pending', 'Waiting', 'Quoted', 'Reserved']);

/** Until when the authorisation may be used: an hour past the last moment the lease may still be funded. */
export function defaultDeadline(lease: ComputeLease, nowSec: number): bigint {
  const waitUntil = Math.floor(waitDeadlineMs(lease) / 1000);
  return BigInt(Math.max(waitUntil, nowSec) + 3600);
}

export function leaseTerms(lease: ComputeLease, o: { maxAmount?: bigint; deadline: bigint; nonce: bigint }): AuthorizationTerms {
  const m = lease.metadata ?? {};
  return {
    payer: getAddress(lease.spec.payer.address),
    namespace: m.namespace ?? '',
    name: m.name ?? '',
    uid: m.uid ?? '',
    pool: lease.spec.pool,
    maxAmount: o.maxAmount ?? maxTotal(lease),
    deadline: o.deadline,
    nonce: o.nonce,
  };
}

/** The Secret the operator reads: keys authorization.json and signature, labelled, owned by the lease. */
export function authorizationSecret(lease: ComputeLease, auth: SignedAuthorization): V1Secret {
  const t = auth.terms;
  const json = JSON.stringify({ ...t, maxAmount: t.maxAmount.toString(), deadline: t.deadline.toString(), nonce: t.nonce.toString() });
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: lease.spec.payer.authorizationSecretRef.name,
      namespace: lease.metadata?.namespace ?? '',
      labels: { [AUTHORIZATION_LABEL]: 'true' },
      annotations: { 'pinfi.io/lease': lease.metadata?.name ?? '', 'pinfi.io/payer': t.payer },
      // Garbage-collected with the lease (after its finalizer has settled it).
      ownerReferences: [{ apiVersion: API_VERSION, kind: 'ComputeLease', name: lease.metadata?.name ?? '', uid: lease.metadata?.uid ?? '' }],
    },
    type: 'Opaque',
    stringData: { [AUTH_TERMS_KEY]: json, [AUTH_SIGNATURE_KEY]: auth.signature },
  };
}

export type TypedData = ReturnType<typeof authorizationTypedData>;

/** Reads back the eth_signTypedData_v4 payload `--external` printed: the domain and the terms. */
export function parseTypedData(text: string): { domain: EscrowDomain; terms: AuthorizationTerms } {
  let d: Partial<TypedData>;
  try {
    d = JSON.parse(text) as Partial<TypedData>;
  } catch {
    throw new CliError('the typed data is not JSON', 'pass the file `kubectl pinfi sign --external` wrote');
  }
  const dom = (d.domain ?? {}) as Record<string, unknown>;
  const msg = (d.message ?? {}) as Record<string, unknown>;
  if (d.primaryType !== 'LeaseAuthorization' || dom.name !== ESCROW_DOMAIN_NAME || dom.version !== ESCROW_DOMAIN_VERSION) {
    throw new CliError('the typed data is not a PinFi lease authorisation', 'pass the file `kubectl pinfi sign --external` wrote');
  }
  const str = (k: string) => (typeof msg[k] === 'string' ? (msg[k] as string) : '');
  const big = (v: unknown, k: string) => {
    // Wallets and tools write uint256 as decimal or 0x-hex strings (ethers writes the chain id in hex).
    if ((typeof v === 'string' && /^([0-9]{1,78}|0x[0-9a-fA-F]{1,64})$/.test(v)) || (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0)) return BigInt(v);
    throw new CliError(`the typed data's ${k} is not a whole number`);
  };
  try {
    return {
      domain: escrowDomain(big(dom.chainId, 'domain.chainId'), String(dom.verifyingContract ?? '')),
      terms: {
        payer: getAddress(str('payer')), namespace: str('namespace'), name: str('name'), uid: str('uid'), pool: str('pool'),
        maxAmount: big(msg.maxAmount, 'maxAmount'), deadline: big(msg.deadline, 'deadline'), nonce: big(msg.nonce, 'nonce'),
      },
    };
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`the typed data is damaged: ${(err as Error).message}`);
  }
}

/** A wallet's signature as the 65-byte hex the contract takes (v 27/28; compact EIP-2098 accepted). */
export function normalizeSignature(text: string): string {
  try {
    return Signature.from(text.trim()).serialized;
  } catch {
    throw new CliError('the signature is not a 65-byte (or 64-byte compact) hex signature', 'paste what the wallet returned for eth_signTypedData_v4, 0x…');
  }
}

export type Authorized = {
  secret: string;
  namespace: string;
  lease: string;
  uid: string;
  pool: string;
  payer: string;
  maxAmount: bigint;
  deadline: string;
  nonce: bigint;
  escrow: string;
  chainId: bigint;
  action: 'created' | 'replaced' | 'dry-run';
  token?: TokenInfo;
  warnings: string[];
  /** The Secret as written (or, with dry-run, as it would be). Holds the signature, never a key. */
  manifest: V1Secret;
};

type AuthorizeInput = {
  lease: ComputeLease;
  signer?: Wallet;
  signed?: SignedAuthorization;
  chain?: Chain;
  escrowFlag?: string;
  chainId?: bigint;
  maxAmount?: bigint;
  deadline?: bigint;
  nonce?: bigint;
  overwrite?: boolean;
  dryRun?: boolean;
};

/** Reads what a lease needs to be signable; throws with what to do when it is not. */
export function assertSignable(lease: ComputeLease): void {
  const name = lease.metadata?.name;
  const phase = lease.status?.phase;
  if (!lease.metadata?.uid) throw new CliError(`ComputeLease ${name} has no uid yet`, 'sign a lease read from the cluster (create it first)');
  if (!SIGNABLE.has(phase)) {
    const ended = phase === 'Settled' || phase === 'Expired' || phase === 'Failed';
    throw new CliError(
      `ComputeLease ${name} is ${phase}: ${ended ? 'it has ended' : 'it is funded already'}, there is nothing to sign`,
      ended ? 'create a new lease (kubectl pinfi lease …) and sign that one' : 'follow it with: kubectl pinfi leases',
    );
  }
}

/** Signs (or takes a signature), checks the Secret as the operator will, and writes it. */
export async function authorize(kube: Kube, io: Io, i: AuthorizeInput): Promise<Authorized> {
  const lease = i.lease;
  assertSignable(lease);
  const nowSec = Math.floor(io.now() / 1000);
  let domain: EscrowDomain;
  let signed: SignedAuthorization;
  if (i.signed) {
    signed = i.signed;
    domain = escrowDomain(i.chain?.chainId ?? i.chainId ?? 0n, escrowAddress(i.escrowFlag, io));
  } else {
    const chainId = i.chain?.chainId ?? i.chainId;
    if (chainId === undefined) throw new CliError('which chain? its id is part of what is signed', 'pass --rpc-url URL (or set PINFI_RPC_URL), or --chain-id ID');
    domain = escrowDomain(chainId, escrowAddress(i.escrowFlag, io));
    const terms = leaseTerms(lease, { ...(i.maxAmount !== undefined ? { maxAmount: i.maxAmount } : {}), deadline: i.deadline ?? defaultDeadline(lease, nowSec), nonce: i.nonce ?? randomNonce() });
    if (!i.signer) throw new CliError('no key to sign with', 'pass --key-file, --keystore, or --external for another wallet', 2);
    if (i.signer.address.toLowerCase() !== terms.payer.toLowerCase()) {
      throw new CliError(
        `the key is for ${i.signer.address}, but lease ${terms.name} is paid by ${terms.payer}`,
        "sign with the payer's key, or recreate the lease with --payer set to the key's address",
      );
    }
    signed = await signAuthorization(i.signer, domain, terms);
  }
  const secret = authorizationSecret(lease, signed);
  const check = checkAuthorization(lease, secret, domain, nowSec);
  if (!check.ok) throw new CliError(`the operator would refuse this authorisation: ${check.message}`, hintFor(check.reason));

  const t = signed.terms;
  const warnings: string[] = [];
  let token: TokenInfo | undefined;
  if (i.chain) {
    const pool = await kube.get<GpuPool>(GPU_POOLS, lease.spec.pool).catch(() => undefined);
    token = pool ? await tokenInfo(i.chain.provider, pool.spec.pricing.token).catch(() => undefined) : undefined;
    const b = await readBalances(i.chain.provider, domain.verifyingContract, t.payer).catch(() => undefined);
    const need = maxTotal(lease);
    if (b && b.allowance < need) warnings.push(`the payer has approved ${showAmount(b.allowance, b.token)} for the escrow, less than the lease's limit of ${showAmount(need, b.token)}: run kubectl pinfi approve --amount ${need} (with the payer's key) before the operator funds it`);
    if (b && b.wallet < need) warnings.push(`the payer holds ${showAmount(b.wallet, b.token)}, less than the lease's limit of ${showAmount(need, b.token)}`);
  }
  const result: Authorized = {
    secret: secret.metadata?.name ?? '', namespace: secret.metadata?.namespace ?? '', lease: t.name, uid: t.uid, pool: t.pool, payer: t.payer,
    maxAmount: t.maxAmount, deadline: new Date(Number(t.deadline) * 1000).toISOString().replace(/\.000Z$/, 'Z'), nonce: t.nonce,
    escrow: domain.verifyingContract, chainId: domain.chainId, action: 'created', ...(token ? { token } : {}), warnings, manifest: secret,
  };
  if (i.dryRun) return { ...result, action: 'dry-run' };
  const existing = await kube.get<V1Secret>(RESOURCES.secrets, result.secret, result.namespace);
  if (existing && !i.overwrite) {
    throw new CliError(`Secret ${result.secret} already exists in namespace ${result.namespace}`, 'pass --overwrite to replace it with this authorisation');
  }
  if (existing) {
    await kube.replace(RESOURCES.secrets, { ...secret, metadata: { ...secret.metadata, resourceVersion: existing.metadata?.resourceVersion } });
    return { ...result, action: 'replaced' };
  }
  await kube.create(RESOURCES.secrets, secret);
  return result;
}

function hintFor(reason: string): string {
  switch (reason) {
    case 'WrongSigner': return "sign with the payer's wallet, under this chain and escrow (--rpc-url / --chain-id, --escrow)";
    case 'AuthorizationTooLow': return "raise --max-amount to at least the lease's limit";
    case 'AuthorizationExpired': return 'sign a fresh one (the deadline is part of what is signed)';
    default: return 'sign again for this lease: kubectl pinfi sign --lease NAME';
  }
}

export function randomNonce(): bigint {
  return BigInt(`0x${randomBytes(8).toString('hex')}`);
}

export function printAuthorized(io: Io, a: Authorized, human: boolean): void {
  const write = human ? io.out : io.err;
  const verb = a.action === 'dry-run' ? 'would be created (dry run)' : a.action;
  write(`secret/${a.secret} ${verb}: ${a.payer} authorises lease ${a.lease} (pool ${a.pool}) for up to ${showAmount(a.maxAmount, a.token)}, until ${a.deadline}\n`);
  for (const w of a.warnings) io.err(`warning: ${w}\n`);
  if (a.action !== 'dry-run') io.err(`the operator funds the lease once it is quoted; follow it with: kubectl pinfi leases ${a.lease} -n ${a.namespace}\n`);
}

export function plain(a: Authorized): Record<string, unknown> {
  const { token, manifest: _manifest, ...rest } = a;
  return { ...rest, ...(token ? { tokenSymbol: token.symbol, tokenDecimals: token.decimals } : {}) };
}
