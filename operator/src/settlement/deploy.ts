// Deploying the escrow and the local test stablecoin, from the generated factories (ABI and bytecode compiled from
// contracts/src). For the CLI, the local market and tests; production escrows are deployed once by an admin.
import { getAddress, type Signer } from 'ethers';
import { LeaseEscrow__factory, TestStablecoin__factory } from './generated/index.js';

export type Deployed = { readonly address: string; readonly txHash: string; readonly gasUsed: bigint };

async function finish(
  contract: { waitForDeployment(): Promise<unknown>; getAddress(): Promise<string>; deploymentTransaction(): { hash: string; wait(confirms?: number): Promise<{ gasUsed: bigint } | null> } | null },
  confirmations: number,
): Promise<Deployed> {
  const tx = contract.deploymentTransaction();
  if (!tx) throw new Error('deployment transaction missing');
  const receipt = await tx.wait(confirmations);
  await contract.waitForDeployment();
  return { address: await contract.getAddress(), txHash: tx.hash, gasUsed: receipt?.gasUsed ?? 0n };
}

export type DeployEscrowOptions = {
  /** The payment token (a stablecoin; TestStablecoin locally). */
  readonly token: string;
  /** Holds DEFAULT_ADMIN_ROLE: pauses, sets treasuries, grants roles. Defaults to the deployer. */
  readonly admin?: string;
  /** Holds SETTLER_ROLE: the operator's address. Defaults to the deployer. */
  readonly settler?: string;
  /** Receives fees of pools without a treasury of their own. Defaults to the admin. */
  readonly treasury?: string;
  readonly confirmations?: number;
};

/** Deploys LeaseEscrow; the deployer pays gas and, unless told otherwise, holds both roles. */
export async function deployEscrow(deployer: Signer, opts: DeployEscrowOptions): Promise<Deployed> {
  const me = await deployer.getAddress();
  const admin = getAddress(opts.admin ?? me);
  const settler = getAddress(opts.settler ?? me);
  const treasury = getAddress(opts.treasury ?? admin);
  const contract = await new LeaseEscrow__factory(deployer).deploy(getAddress(opts.token), admin, settler, treasury);
  return finish(contract, opts.confirmations ?? 1);
}

/** Deploys the mintable 6-decimal test stablecoin (tUSD, with permit). LOCAL CHAINS ONLY: anyone can mint. */
export async function deployTestToken(deployer: Signer, opts: { confirmations?: number } = {}): Promise<Deployed> {
  const contract = await new TestStablecoin__factory(deployer).deploy();
  return finish(contract, opts.confirmations ?? 1);
}
