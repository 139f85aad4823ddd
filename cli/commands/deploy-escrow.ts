// `pinfi deploy-escrow`: deploys the LeaseEscrow contract (once per market, by its admin); on a
// local chain, optionally with the mintable test stablecoin and some tokens for test accounts.
import { Command } from 'commander';
import { NonceManager } from 'ethers';
import { deployEscrow, deployTestToken, mintTestTokens, tokenInfo } from '../../operator/src/settlement/index.js';
import { parseAmountArg, showAmount } from '../amounts.js';
import { connectChain, loadKey, needContract, parseAddress } from '../chain.js';
import { CliError } from '../errors.js';
import type { Io } from '../io.js';
import { chainOptions, keyOptions, outputOption, type ChainOpts, type KeyOpts, type OutputOpts } from '../options.js';
import { render, renderFields } from '../output.js';

type DeployOpts = ChainOpts & KeyOpts & OutputOpts & {
  token?: string;
  testToken?: boolean;
  admin?: string;
  settler?: string;
  treasury?: string;
  mintTo: string[];
  mintAmount?: string;
  confirmations: string;
};

const collect = (v: string, prev: string[]) => [...prev, v];

export function deployEscrowCommand(io: Io): Command {
  const cmd = new Command('deploy-escrow')
    .description('Deploy the LeaseEscrow contract for a payment token (with --test-token: a local test stablecoin too)')
    .option('--token <address>', 'the ERC-20 payment token (a stablecoin)')
    .option('--test-token', 'deploy the mintable 6-decimal test stablecoin tUSD and use it (LOCAL CHAINS ONLY: anyone can mint)')
    .option('--admin <address>', 'holds the admin role: pauses, sets treasuries, grants roles (default: the deployer)')
    .option('--settler <address>', "holds the settler role: the operator's address (default: the deployer)")
    .option('--treasury <address>', 'receives fees of pools without a treasury of their own (default: the admin)')
    .option('--mint-to <address>', 'with --test-token: mint test tokens to this address (repeatable)', collect, [])
    .option('--mint-amount <amount>', 'with --mint-to: how much each gets (base units or e.g. 1000tUSD)', '1000tUSD')
    .option('--confirmations <n>', 'blocks to wait for each transaction', '1');
  keyOptions(cmd, "the deployer's");
  chainOptions(cmd, { escrow: false });
  outputOption(cmd, ['table', 'json', 'yaml']);
  cmd
    .addHelpText('after', `
Then run the operator with --rpc-url, --escrow-address (the address printed) and the settler's
key, and give users the escrow address (PINFI_ESCROW_ADDRESS).

Examples:
  kubectl pinfi deploy-escrow --token 0xUSDC --settler 0xOperator --admin 0xMultisig --key-file deployer.key --rpc-url $RPC
  kubectl pinfi deploy-escrow --test-token --mint-to 0xPayer --mint-amount 1000tUSD --key-file anvil.key --rpc-url http://127.0.0.1:8545
`)
    .action(async (o: DeployOpts) => {
      if ((o.token === undefined) === !o.testToken) throw new CliError('give the payment token: --token ADDRESS, or --test-token on a local chain', undefined, 2);
      if (o.mintTo.length > 0 && !o.testToken) throw new CliError('--mint-to works with --test-token only (a real stablecoin cannot be minted)', undefined, 2);
      const confirmations = Number(o.confirmations);
      if (!Number.isInteger(confirmations) || confirmations < 1 || confirmations > 64) throw new CliError('--confirmations must be a whole number from 1 to 64', undefined, 2);
      const roles = {
        ...(o.admin ? { admin: parseAddress(o.admin, '--admin') } : {}),
        ...(o.settler ? { settler: parseAddress(o.settler, '--settler') } : {}),
        ...(o.treasury ? { treasury: parseAddress(o.treasury, '--treasury') } : {}),
      };
      const mintTo = o.mintTo.map((a) => parseAddress(a, '--mint-to'));
      const chain = await connectChain(o.rpcUrl ?? io.env.rpcUrl);
      try {
        const key = await loadKey(o, io, chain.provider);
        const deployer = new NonceManager(key);
        let tokenAddress: string;
        if (o.testToken) {
          if (chain.chainId !== 31337n && chain.chainId !== 1337n) io.err(`warning: chain ${chain.chainId} does not look local; the test token lets anyone mint\n`);
          tokenAddress = (await deployTestToken(deployer, { confirmations })).address;
          io.err(`test token tUSD deployed at ${tokenAddress}\n`);
        } else {
          tokenAddress = parseAddress(o.token ?? '', '--token');
          await needContract(chain, tokenAddress, 'token', 'check --token and --rpc-url (is it the right chain?)');
        }
        const token = await tokenInfo(chain.provider, tokenAddress);
        const escrow = await deployEscrow(deployer, { token: tokenAddress, ...roles, confirmations });
        const minted: { to: string; amount: bigint; txHash: string }[] = [];
        if (mintTo.length > 0) {
          const amount = parseAmountArg(o.mintAmount ?? '0', '--mint-amount', token);
          for (const to of mintTo) minted.push({ to, amount, txHash: (await mintTestTokens(deployer, tokenAddress, to, amount)).txHash });
        }
        const me = key.address;
        const result = {
          escrow: escrow.address, token: tokenAddress, tokenSymbol: token.symbol, tokenDecimals: token.decimals, chainId: chain.chainId, txHash: escrow.txHash,
          admin: roles.admin ?? me, settler: roles.settler ?? me, treasury: roles.treasury ?? roles.admin ?? me, minted,
        };
        io.out(render(o.output, result, () => renderFields([
          ['escrow', escrow.address], ['token', `${tokenAddress} (${token.symbol}, ${token.decimals} decimals)`], ['chain', String(chain.chainId)],
          ['admin', result.admin], ['settler', result.settler], ['treasury', result.treasury], ['tx', escrow.txHash],
          ...minted.map((m) => ['minted', `${showAmount(m.amount, token)} to ${m.to}`] as [string, string]),
        ])));
        io.err(`next: export PINFI_ESCROW_ADDRESS=${escrow.address}; run the operator with --rpc-url ${chain.url} --chain-id ${chain.chainId} --escrow-address ${escrow.address} and the settler's key\n`);
      } finally {
        chain.provider.destroy();
      }
    });
  return cmd;
}
