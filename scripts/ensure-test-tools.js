#!/usr/bin/env node
// Installs the programs the test suite drives besides Node packages: kcat
// (librdkafka's command-line client) from Debian. Runs before `npm test`.
import { execFileSync, spawnSync } from "node:child_process";

function has(command) {
  return spawnSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" }).status === 0;
}

const missing = [["kcat", "kcat"]].filter(([command]) => !has(command));
if (missing.length > 0) {
  const packages = missing.map(([, debianPackage]) => debianPackage);
  if (process.getuid?.() !== 0) {
    console.error(
      `The tests need ${packages.join(", ")}; install with: sudo apt-get install -y ${packages.join(" ")}`,
    );
    process.exit(1);
  }
  console.log(`Installing ${packages.join(", ")} from Debian for the tests`);
  execFileSync("apt-get", ["update"], { stdio: "inherit" });
  execFileSync("apt-get", ["install", "-y", "--no-install-recommends", ...packages], {
    stdio: "inherit",
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
}
