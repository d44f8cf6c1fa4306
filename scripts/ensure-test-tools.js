#!/usr/bin/env node
// Installs the programs the test suite drives besides Node packages, from
// Debian: kcat (librdkafka's command-line client) and ip (iproute2, with
// which the fault campaign puts each node in a network namespace of its own).
// Runs before `npm test` and `npm run faults`.
import { execFileSync, spawnSync } from "node:child_process";

function has(command) {
  return spawnSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" }).status === 0;
}

const missing = [
  ["kcat", "kcat"],
  ["ip", "iproute2"],
].filter(([command]) => !has(command));
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
