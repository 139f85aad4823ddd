// Loading the settler key from a file or the environment: the key never appears in errors, logs or inspection.
import { mkdtempSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { loadSigner } from '../../operator/src/settlement/keys.js';
import { KeyInvalidError } from '../../operator/src/settlement/errors.js';

const KEY = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d';
const ADDRESS = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
const dir = mkdtempSync(join(tmpdir(), 'pinfi-keys-'));

function recorder() {
  const lines: string[] = [];
  const at = (l: string) => (msg: string, fields?: Record<string, unknown>) => void lines.push(`${l} ${msg} ${JSON.stringify(fields ?? {})}`);
  return { lines, logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } };
}

test.each([
  { name: 'a file with a trailing newline (a mounted Secret)', content: `${KEY}\n` },
  { name: 'a file without the 0x prefix', content: KEY.slice(2) },
])('loads from $name, logs only the address', ({ content }) => {
  const file = join(dir, `key-${Math.random()}`);
  writeFileSync(file, content);
  chmodSync(file, 0o600);
  const { lines, logger } = recorder();
  const wallet = loadSigner({ file }, { logger });
  expect(wallet.address).toBe(ADDRESS);
  expect(lines.join('\n')).toContain(ADDRESS);
  expect(lines.join('\n')).not.toContain(KEY.slice(2));
  expect(inspect(wallet, { depth: 5 })).not.toContain(KEY.slice(2));
  expect(JSON.stringify({ wallet: { address: wallet.address } })).not.toContain(KEY.slice(2));
});

test('loads from an environment variable', () => {
  expect(loadSigner({ env: 'PINFI_SETTLER_KEY', environment: { PINFI_SETTLER_KEY: KEY } }).address).toBe(ADDRESS);
});

test('warns when the key file is readable by others', () => {
  const file = join(dir, 'open-key');
  writeFileSync(file, KEY);
  chmodSync(file, 0o644);
  const { lines, logger } = recorder();
  loadSigner({ file }, { logger });
  expect(lines.some((l) => /readable by others/.test(l))).toBe(true);
});

test('does not warn for a Secret volume readable by its group (0440 with fsGroup)', () => {
  const file = join(dir, 'group-key');
  writeFileSync(file, KEY);
  chmodSync(file, 0o440);
  const { lines, logger } = recorder();
  loadSigner({ file }, { logger });
  expect(lines.some((l) => /readable by/.test(l))).toBe(false);
});

test.each([
  { name: 'missing file', source: { file: join(dir, 'nope') }, message: /cannot read key file .*nope: ENOENT/ },
  { name: 'unset variable', source: { env: 'NOPE', environment: {} }, message: /environment variable NOPE is not set/ },
  { name: 'truncated key', source: { env: 'K', environment: { K: KEY.slice(0, 40) } }, message: /does not hold a private key \(expected 64 hex digits.*found 40 characters\)/ },
  { name: 'key with junk appended', source: { env: 'K', environment: { K: `${KEY}zz` } }, message: /does not hold a private key/ },
  { name: 'zero key (not on the curve)', source: { env: 'K', environment: { K: `0x${'0'.repeat(64)}` } }, message: /not a valid secp256k1 private key/ },
])('$name: a KeyInvalidError that does not contain the key', ({ source, message }) => {
  let err: unknown;
  try {
    loadSigner(source);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(KeyInvalidError);
  expect((err as Error).message).toMatch(message);
  expect(inspect(err, { depth: 10 })).not.toContain(KEY.slice(2, 42));
  expect((err as Error).cause).toBeUndefined();
});
