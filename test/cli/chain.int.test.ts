// The chain commands against the real anvil: deploy-escrow, approve (key file and encrypted
// keystore), withdraw with nothing owed, their errors, and the simulator's help.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MaxUint256, encryptKeystoreJson } from 'ethers';
import type { JsonRpcProvider } from 'ethers';
import { LeaseEscrow__factory } from '../../operator/src/settlement/generated/index.js';
import { readBalances } from '../../operator/src/settlement/index.js';
import { freePort } from '../env/ports.js';
import { testProvider } from '../env/testing.js';
import { account, ok, pinfi, tempDir } from './run.js';

const dir = tempDir('chain');
let provider: JsonRpcProvider;
let deployer: Awaited<ReturnType<typeof account>>;
let payer: Awaited<ReturnType<typeof account>>;
let settler: Awaited<ReturnType<typeof account>>;
let escrow: string;
let token: string;

beforeAll(async () => {
  provider = testProvider();
  [deployer, payer, settler] = await Promise.all([account(dir, 'deployer'), account(dir, 'payer'), account(dir, 'settler')]);
});

afterAll(() => provider?.destroy());

test('deploy-escrow deploys the test token and the escrow with the roles asked for, and mints', async () => {
  const r = await ok(['deploy-escrow', '--test-token', '--key-file', deployer.keyFile, '--settler', settler.address, '--mint-to', payer.address, '--mint-amount', '250tUSD', '-o', 'json']);
  const out = JSON.parse(r.stdout) as { escrow: string; token: string; chainId: string; settler: string; admin: string };
  escrow = out.escrow;
  token = out.token;
  expect(out).toMatchObject({ chainId: '31337', settler: settler.address, admin: deployer.address });
  const c = LeaseEscrow__factory.connect(escrow, provider);
  expect(await c.token()).toBe(token);
  expect(await c.hasRole(await c.SETTLER_ROLE(), settler.address)).toBe(true);
  expect(await c.hasRole(await c.DEFAULT_ADMIN_ROLE(), deployer.address)).toBe(true);
  expect((await readBalances(provider, escrow, payer.address)).wallet).toBe(250_000_000n);
  expect(r.stderr).toContain(`export PINFI_ESCROW_ADDRESS=${escrow}`);
  // A second escrow for the existing token, as a table.
  const again = await ok(['deploy-escrow', '--token', token, '--key-file', deployer.keyFile]);
  expect(again.stdout).toMatch(/^escrow:\s+0x[0-9a-fA-F]{40}\ntoken:\s+0x[0-9a-fA-F]{40} \(tUSD, 6 decimals\)/);
});

test('approve sets the allowance, in whole tokens or unlimited', async () => {
  const r = await ok(['approve', '--amount', '12.5tUSD', '--key-file', payer.keyFile, '--escrow', escrow]);
  expect(r.stdout).toMatch(/allowance:\s+12\.5 tUSD/);
  expect(r.stdout).toMatch(/balance:\s+250 tUSD/);
  expect((await readBalances(provider, escrow, payer.address)).allowance).toBe(12_500_000n);
  const max = JSON.parse((await ok(['approve', '--amount', 'max', '--key-file', payer.keyFile, '-o', 'json'], { PINFI_ESCROW_ADDRESS: escrow })).stdout) as { allowance: string; txHash: string };
  expect(BigInt(max.allowance)).toBe(MaxUint256);
  expect(max.txHash).toMatch(/^0x[0-9a-f]{64}$/);
});

test('approve with an encrypted keystore; a wrong password is refused and no key is printed', async () => {
  const ks = join(dir, 'payer.json');
  writeFileSync(ks, await encryptKeystoreJson({ address: payer.address, privateKey: payer.key }, 'correct horse', { scrypt: { N: 1 << 10 } }));
  const pw = join(dir, 'pw.txt');
  writeFileSync(pw, 'correct horse\n', { mode: 0o600 });
  const [good, bad] = await Promise.all([
    pinfi(['approve', '--amount', '7', '--keystore', ks, '--password-file', pw, '--escrow', escrow]),
    pinfi(['approve', '--amount', '7', '--keystore', ks, '--escrow', escrow], { PINFI_KEYSTORE_PASSWORD: 'wrong' }),
  ]);
  expect(good.code).toBe(0);
  expect((await readBalances(provider, escrow, payer.address)).allowance).toBe(7n);
  expect(bad.code).toBe(1);
  expect(bad.stderr).toMatch(/cannot decrypt keystore .*payer\.json: wrong password/);
  for (const r of [good, bad]) expect(r.stdout + r.stderr).not.toContain(payer.key.slice(2));
});

test('withdraw with nothing owed sends nothing', async () => {
  const r = await ok(['withdraw', '--key-file', payer.keyFile, '--escrow', escrow]);
  expect(r.stdout).toBe(`nothing to withdraw: escrow ${escrow} owes ${payer.address} nothing\n`);
});

test('chain errors say what to do, and never show the key', async () => {
  const badKey = join(dir, 'bad.key');
  writeFileSync(badKey, 'not-a-key\n', { mode: 0o600 });
  const closed = await freePort(); // nothing listens there
  const [noEscrow, noContract, noChain, notAKey, noToken] = await Promise.all([
    pinfi(['withdraw', '--key-file', payer.keyFile]),
    pinfi(['withdraw', '--key-file', payer.keyFile, '--escrow', `0x${'12'.repeat(20)}`]),
    pinfi(['approve', '--amount', '1', '--key-file', payer.keyFile, '--escrow', escrow, '--rpc-url', `http://127.0.0.1:${closed}`]),
    pinfi(['approve', '--amount', '1', '--key-file', badKey, '--escrow', escrow]),
    pinfi(['deploy-escrow', '--key-file', deployer.keyFile]),
  ]);
  expect(noEscrow).toMatchObject({ code: 1 });
  expect(noEscrow.stderr).toMatch(/^error: which escrow\? .*\nhint: pass --escrow ADDRESS/);
  expect(noContract.stderr).toMatch(/no contract at escrow 0x1212.* on chain 31337[\s\S]*hint: check --escrow/);
  expect(noChain.stderr).toContain(`error: cannot reach the chain at http://127.0.0.1:${closed} (ECONNREFUSED)\nhint: is the node running?`);
  expect(notAKey.stderr).toMatch(/key file .*bad\.key does not hold a private key/);
  expect(noToken).toMatchObject({ code: 2 });
  expect(noToken.stderr).toMatch(/give the payment token: --token ADDRESS, or --test-token/);
  for (const r of [noEscrow, noContract, noChain]) expect(r.stdout + r.stderr).not.toContain(payer.key.slice(2));
});

test('simulate --help shows the simulator\'s own flags; --help lists every command', async () => {
  const [sim, help] = await Promise.all([ok(['simulate', '--help']), ok(['--help'])]);
  expect(sim.stdout).toMatch(/^Usage: pinfi simulate/);
  expect(sim.stdout).toMatch(/--seeds/);
  expect(help.stdout).toMatch(/Commands:[\s\S]*deploy-escrow[\s\S]*Examples:/);
});
