import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["impl/**/*.test.ts", "machines/**/*.test.ts", "spec/**/*.test.ts", "conformance/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: "forks",
    // CI reads the pass and fail counts from the JSON report.
    reporters: process.env.CI
      ? ["default", ["json", { outputFile: ".tmp/vitest-report.json" }]]
      : ["default"],
  },
});
