// `pinfi approve`: the payer's ERC-20 allowance for the escrow, which pulls each lease's price
// from it when the operator opens the lease. ERC-20 approve replaces the allowance, it does not add.
import { Command } from 'commander';
import { MaxUint256 } from 'ethers';
import { approveEscrow, escrowToken, readBalances } from '../../operator/src/settlement/index.js';
import { parseAmountArg, showAmount } from '../amounts.js';
import { connectChain, ESCROW_HINT, escrowAddress, loadKey, needContract } from '../chain.js';
import type { Io } from '../io.js';
import { chainOptions, keyOptions, outputOption, type ChainOpts, type KeyOpts, type OutputOpts } from '../options.js';
import { render, renderFields } from '../output.js';

type ApproveOpts = ChainOpts & KeyOpts & OutputOpts & { amount: string };

export function approveCommand(io: Io): Command {
  const cmd = new Command('approve')
    .description("Set the payer's ERC-20 allowance for the escrow (what leases may pull from the payer's wallet)")
    .requiredOption('--amount <amount>', 'the allowance: base units, whole tokens with the symbol (500tUSD), or max');
  keyOptions(cmd, "the payer's");
  chainOptions(cmd);
  outputOption(cmd, ['table', 'json', 'yaml']);
  cmd
    .addHelpText('after', `
The allowance replaces the previous one (ERC-20 approve). Each lease locks at most its quote, up
to the maximum the payer signed (kubectl pinfi sign); approve at least the sum of the leases you
expect to run at once.

Examples:
  kubectl pinfi approve --amount 500tUSD --key-file payer.key --rpc-url $RPC --escrow 0xEscrow
  kubectl pinfi approve --amount max --keystore payer.json
  kubectl pinfi approve --amount 0 --key-file payer.key          # revoke
`)
    .action(async (o: ApproveOpts) => {
      const chain = await connectChain(o.rpcUrl ?? io.env.rpcUrl);
      try {
        const escrow = escrowAddress(o.escrow, io);
        await needContract(chain, escrow, 'escrow', ESCROW_HINT);
        const signer = await loadKey(o, io, chain.provider);
        const token = await escrowToken(chain.provider, escrow);
        const amount = o.amount.trim().toLowerCase() === 'max' ? MaxUint256 : parseAmountArg(o.amount, '--amount', token);
        const sent = await approveEscrow(signer, escrow, amount);
        const b = await readBalances(chain.provider, escrow, signer.address);
        const result = { owner: signer.address, escrow, token: token.address, tokenSymbol: token.symbol, allowance: b.allowance, balance: b.wallet, txHash: sent.txHash, block: sent.blockNumber };
        const allowance = b.allowance === MaxUint256 ? 'unlimited' : showAmount(b.allowance, token);
        io.out(render(o.output, result, () => renderFields([
          ['owner', signer.address], ['escrow', escrow], ['allowance', allowance], ['balance', showAmount(b.wallet, token)], ['tx', sent.txHash],
        ])));
        if (b.wallet < b.allowance && b.allowance !== MaxUint256) io.err(`note: ${signer.address} holds ${showAmount(b.wallet, token)}, less than the allowance; leases fail to fund beyond what the wallet holds\n`);
      } finally {
        chain.provider.destroy();
      }
    });
  return cmd;
}
