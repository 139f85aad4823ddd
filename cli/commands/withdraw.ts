// `pinfi withdraw`: collect what settlements credited to your address (providers' earnings, a
// payer's refunds, a treasury's fees). Pull payments: the escrow never pushes tokens.
import { Command } from 'commander';
import { readBalances, withdraw } from '../../operator/src/settlement/index.js';
import { showAmount } from '../amounts.js';
import { connectChain, ESCROW_HINT, escrowAddress, loadKey, needContract } from '../chain.js';
import type { Io } from '../io.js';
import { chainOptions, keyOptions, outputOption, type ChainOpts, type KeyOpts, type OutputOpts } from '../options.js';
import { render, renderFields } from '../output.js';

type WithdrawOpts = ChainOpts & KeyOpts & OutputOpts;

export function withdrawCommand(io: Io): Command {
  const cmd = new Command('withdraw')
    .description('Withdraw what the escrow owes your address: provider earnings, payer refunds, treasury fees');
  keyOptions(cmd, 'your');
  chainOptions(cmd);
  outputOption(cmd, ['table', 'json', 'yaml']);
  cmd
    .addHelpText('after', `
Nothing is sent when nothing is owed. Works while the escrow is paused.

Examples:
  kubectl pinfi withdraw --key-file provider.key --rpc-url $RPC --escrow 0xEscrow
  kubectl pinfi withdraw --keystore payer.json -o json
`)
    .action(async (o: WithdrawOpts) => {
      const chain = await connectChain(o.rpcUrl ?? io.env.rpcUrl);
      try {
        const escrow = escrowAddress(o.escrow, io);
        await needContract(chain, escrow, 'escrow', ESCROW_HINT);
        const signer = await loadKey(o, io, chain.provider);
        const before = await readBalances(chain.provider, escrow, signer.address);
        if (before.owed === 0n) {
          io.out(render(o.output, { account: signer.address, escrow, amount: 0n, txHash: null, balance: before.wallet }, () => `nothing to withdraw: escrow ${escrow} owes ${signer.address} nothing\n`));
          return;
        }
        const r = await withdraw(signer, escrow);
        const after = await readBalances(chain.provider, escrow, signer.address);
        const result = { account: signer.address, escrow, amount: r.amount, txHash: r.txHash, block: r.blockNumber, balance: after.wallet, tokenSymbol: after.token.symbol };
        io.out(render(o.output, result, () => renderFields([
          ['account', signer.address], ['withdrawn', showAmount(r.amount, after.token)], ['balance', showAmount(after.wallet, after.token)], ['tx', r.txHash],
        ])));
      } finally {
        chain.provider.destroy();
      }
    });
  return cmd;
}
