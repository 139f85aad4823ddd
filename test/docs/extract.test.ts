import { documentedCommands } from './extract.js';

const md = [
  'Text with `kubectl pinfi pools` inline is not a command.',
  '```sh',
  '# a comment line',
  'kubectl pinfi pools            # trailing comment',
  '',
  'pinfi deploy-escrow --rpc-url https://x \\',
  '  --token 0xT   # the token',
  "echo 'a # not a comment'",
  '```',
  '```yaml',
  'kubectl: not a command',
  '```',
  '```console',
  '$ kubectl get gpupools',
  'NAME   PRICE',
  '```',
].join('\n');

test('commands of shell and console blocks, continuations joined, comments and output dropped', () => {
  expect(documentedCommands('x.md', md)).toEqual([
    { file: 'x.md', line: 4, block: 1, command: 'kubectl pinfi pools' },
    { file: 'x.md', line: 6, block: 1, command: 'pinfi deploy-escrow --rpc-url https://x --token 0xT' },
    { file: 'x.md', line: 8, block: 1, command: "echo 'a # not a comment'" },
    { file: 'x.md', line: 14, block: 2, command: 'kubectl get gpupools' },
  ]);
});
