// Smoke test of the real EVM node: anvil answers, and a contract compiled with solc (npm)
// deploys with ethers and returns the value it stores.
import { ContractFactory, NonceManager, Wallet } from 'ethers';
import solc from 'solc';
import { ANVIL_KEYS, rpc } from '../env/anvil.js';
import { testProvider, testRpcUrl } from '../env/testing.js';

const SOURCE = `// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;
contract Store {
  uint256 public value;
  constructor(uint256 v) { value = v; }
  function set(uint256 v) external { value = v; }
}`;

test('anvil answers eth_chainId', async () => {
  expect(await rpc<string>(testRpcUrl(), 'eth_chainId')).toBe('0x7a69');
});

test('a solc-compiled contract deploys and returns its stored value', async () => {
  const input = {
    language: 'Solidity',
    sources: { 'Store.sol': { content: SOURCE } },
    settings: { outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } } },
  };
  const out = JSON.parse(solc.compile(JSON.stringify(input))) as {
    errors?: { severity: string; formattedMessage: string }[];
    contracts: Record<string, Record<string, { abi: unknown[]; evm: { bytecode: { object: string } } }>>;
  };
  expect((out.errors ?? []).filter((e) => e.severity === 'error')).toEqual([]);
  const art = out.contracts['Store.sol']?.Store;
  if (!art) throw new Error('Store not compiled');
  const provider = testProvider();
  const signer = new NonceManager(new Wallet(ANVIL_KEYS[9], provider));
  const factory = new ContractFactory(art.abi as never, art.evm.bytecode.object, signer);
  const c = await factory.deploy(41n);
  await c.waitForDeployment();
  expect(await c.getFunction('value')()).toBe(41n);
  await (await c.getFunction('set')(42n)).wait();
  expect(await c.getFunction('value')()).toBe(42n);
});
