import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["impl/**/*.test.ts", "machines/**/*.test.ts", "spec/**/*.test.ts", "conformance/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
  },
});
