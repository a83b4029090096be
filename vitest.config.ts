import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Real PostgreSQL clusters and whole bundles: generous, and files in separate processes.
    testTimeout: 180_000,
    hookTimeout: 180_000,
    pool: 'forks',
    // s3rver (the S3 stand-in that runs inside the test process) signs list continuation tokens with DES, which
    // OpenSSL 3 keeps in its legacy provider. Only the test workers get this flag; the bundles never do.
    execArgv: ['--openssl-legacy-provider'],
    maxWorkers: 2,
  },
});
