import { main } from './main.js';
import { recordingIo } from './testing/fixtures.js';

test('--help lists every command with examples', async () => {
  const io = recordingIo();
  expect(await main(['--help'], { io, name: 'kubectl pinfi' })).toBe(0);
  const help = io.stdout();
  expect(help).toMatch(/^Usage: kubectl pinfi/);
  for (const c of ['pools', 'quote', 'lease', 'leases', 'sign', 'approve', 'join', 'withdraw', 'deploy-escrow', 'simulate']) expect(help).toMatch(new RegExp(`\\n  ${c} `));
  expect(help).toMatch(/Examples:/);
});

test.each(['pools', 'quote', 'lease', 'leases', 'sign', 'approve', 'join', 'withdraw', 'deploy-escrow'])('%s --help has examples', async (cmd) => {
  const io = recordingIo();
  expect(await main([cmd, '--help'], { io })).toBe(0);
  expect(io.stdout()).toMatch(/Examples:\n( {2}#.*\n)? {2}kubectl pinfi /);
});

test('usage errors are reported by commander with a non-zero exit code', async () => {
  const io = recordingIo();
  expect(await main(['quote', '--gpus', '2'], { io })).not.toBe(0);
  expect(io.stderr()).toMatch(/required option '--pool <name>' not specified/);
  const typo = recordingIo();
  expect(await main(['leasess'], { io: typo })).not.toBe(0);
  expect(typo.stderr()).toMatch(/Did you mean leases\?/);
});

test('a command error prints "error:" and a hint, and exits 1', async () => {
  const io = recordingIo({ kubeconfigs: [], home: '/nonexistent' });
  expect(await main(['pools'], { io })).toBe(1);
  expect(io.stderr()).toBe('error: no kubeconfig found\nhint: pass --kubeconfig FILE, set KUBECONFIG, or create ~/.kube/config (kubectl config view shows what kubectl uses)\n');
});

test('bad flag values are refused before anything is contacted', async () => {
  const io = recordingIo();
  expect(await main(['quote', '--pool', 'a', '--gpus', 'many', '--hours', '1'], { io })).toBe(2);
  expect(io.stderr()).toMatch(/--gpus "many" is not a whole number/);
  const out = recordingIo();
  expect(await main(['pools', '-o', 'xml'], { io: out })).not.toBe(0);
  expect(out.stderr()).toMatch(/Allowed choices are table, wide, json, yaml/);
});
