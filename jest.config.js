// jest 30 + ts-jest in ESM mode. Type checking is `npm run typecheck` (tsc), so ts-jest only
// transpiles (isolatedModules) and the suite starts fast.
//
// Two projects:
//   unit         *.test.ts      pure logic, no processes
//   integration  *.int.test.ts  real components: the global setup starts one local control plane
//                               (kube-apiserver, etcd, controller-manager, scheduler, kwok) and one
//                               anvil for the whole run and exports their addresses to the tests.
const transform = {
  '^.+\\.ts$': ['ts-jest', { useESM: true, diagnostics: false }],
};
const common = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform,
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '/.pinfi/'],
  // etcd's data under .pinfi/ has *.snap files jest would count as obsolete snapshots.
  modulePathIgnorePatterns: ['<rootDir>/.pinfi/'],
};

/** @type {import('jest').Config} */
export default {
  testTimeout: 180_000,
  // One test file at a time: integration files start their own operators, which (unscoped)
  // reconcile every pool and lease in the shared cluster; two at once fight over them.
  maxWorkers: 1,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/**/*.test.ts'], testPathIgnorePatterns: [...common.testPathIgnorePatterns, '\\.int\\.test\\.ts$'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/**/*.int.test.ts'],
      globalSetup: '<rootDir>/test/env/global-setup.mjs',
      globalTeardown: '<rootDir>/test/env/global-teardown.mjs',
    },
  ],
};
