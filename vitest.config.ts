import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Tests start real servers (simulator, s3rver); two cores here, so keep parallelism modest.
    maxWorkers: 2,
    // Coverage is measured on every run (npm test, CI) and the run fails below these floors.
    coverage: {
      enabled: true,
      provider: "v8",
      include: ["src/**/*.ts"],
      reporter: ["text-summary"],
      thresholds: { lines: 85, functions: 90, branches: 75, statements: 85 },
    },
  },
});
