// The operator and the scheduler extension must not load @kubernetes/client-node at run time:
// its entry point loads every generated API module, about 50 MiB of resident memory (docs/
// leases.md, "Measured"). Types from it are fine (`import type` is erased). This walks the
// static import graph from both entry points as Node would load it (with verbatimModuleSyntax,
// an `import { type X }` is still a runtime import); dynamic `import()` is not followed, which is
// how a kubeconfig that needs client-node reaches it (connection.ts).
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

const ROOT = resolve(import.meta.dirname, '../../..');

/** Runtime module specifiers of one file (imports and re-exports that survive compilation). */
export function runtimeImports(source: string): string[] {
  const file = ts.createSourceFile('x.ts', source, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const out: string[] = [];
  for (const st of file.statements) {
    if (ts.isImportDeclaration(st) && !st.importClause?.isTypeOnly && ts.isStringLiteral(st.moduleSpecifier)) out.push(st.moduleSpecifier.text);
    if (ts.isExportDeclaration(st) && !st.isTypeOnly && st.moduleSpecifier && ts.isStringLiteral(st.moduleSpecifier)) out.push(st.moduleSpecifier.text);
  }
  return out;
}

/** Every package reached from `entry`, with one import chain that reaches it. */
function packagesReached(entry: string): Map<string, string[]> {
  const seen = new Set<string>();
  const packages = new Map<string, string[]>();
  const visit = (file: string, chain: string[]): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const here = [...chain, relative(ROOT, file)];
    for (const spec of runtimeImports(readFileSync(file, 'utf8'))) {
      if (spec.startsWith('.')) {
        visit(join(dirname(file), spec.replace(/\.js$/, '.ts')), here);
      } else if (!spec.startsWith('node:')) {
        const pkg = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
        if (!packages.has(pkg)) packages.set(pkg, here);
      }
    }
  };
  visit(join(ROOT, entry), []);
  return packages;
}

test('runtimeImports keeps what Node loads and drops what TypeScript erases', () => {
  const src = [
    "import type { V1Pod } from 'erased';",
    "import { type V1Node } from 'kept-empty';",
    "import { a, type B } from 'kept';",
    "export { c } from './re-export.js';",
    "export type { D } from 'erased-too';",
    "const m = await import('dynamic');",
  ].join('\n');
  expect(runtimeImports(src)).toEqual(['kept-empty', 'kept', './re-export.js']);
});

test.each(['operator/src/main.ts', 'scheduler-plugin/main.ts'])('%s does not load @kubernetes/client-node', (entry) => {
  const packages = packagesReached(entry);
  expect(packages.get('@kubernetes/client-node')).toBeUndefined();
  // The walk itself reached the packages it should (a walk that finds nothing proves nothing).
  expect([...packages.keys()]).toEqual(expect.arrayContaining(['undici', 'yaml']));
});
