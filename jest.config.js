/**
 * Three projects: unit specs beside the code, end-to-end tests that boot the app on real PostgreSQL and Redis, and the
 * chaos test (test/chaos/), which runs the built API and worker as processes and kills them.
 * NestJS 12 ships ES modules, which Jest on Node 20 cannot require: see test/setup/esm-transformer.js.
 */
const typescript = [
  '@swc/jest',
  {
    swcrc: false,
    sourceMaps: 'inline',
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
      target: 'es2022',
      keepClassNames: true,
    },
    module: { type: 'commonjs' },
  },
];
const shared = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': typescript, '^.+/node_modules/.+\\.m?js$': '<rootDir>/test/setup/esm-transformer.js' },
  transformIgnorePatterns: [],
  moduleNameMapper: {
    '^@tenantry/([a-z-]+)$': '<rootDir>/libs/$1/src',
    '^@tenantry/([a-z-]+)/(.*)$': '<rootDir>/libs/$1/src/$2',
  },
};
module.exports = {
  testTimeout: 30000,
  reporters: ['default', '<rootDir>/test/setup/totals-reporter.js'],
  maxWorkers: 2,
  projects: [
    {
      ...shared,
      displayName: 'unit',
      testMatch: ['<rootDir>/libs/**/*.spec.ts', '<rootDir>/apps/**/*.spec.ts'],
    },
    {
      ...shared,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
      globalSetup: '<rootDir>/test/setup/global-setup.ts',
      globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
      setupFiles: ['<rootDir>/test/setup/env.ts'],
    },
    {
      ...shared,
      displayName: 'chaos',
      testMatch: ['<rootDir>/test/chaos/**/*.spec.ts'],
      // The same file as e2e's: Jest runs a global hook once per path, so one run still makes one set of databases.
      globalSetup: '<rootDir>/test/setup/global-setup.ts',
      globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
      setupFiles: ['<rootDir>/test/setup/env.ts'],
    },
  ],
};
