import { defineConfig } from 'vitest/config';

/**
 * Two projects over one configuration: `core` (behaviour) and `faults` (real components under real faults:
 * PgBouncer, TLS, a waking server, killed processes). `npm test` runs both; `npx vitest run --project faults`
 * runs one.
 */
export default defineConfig({
  test: {
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: ['default'],
    projects: [
      { extends: true, test: { name: 'core', include: ['test/**/*.test.ts'], exclude: ['test/faults-*.test.ts'] } },
      { extends: true, test: { name: 'faults', include: ['test/faults-*.test.ts'] } },
    ],
  },
});
