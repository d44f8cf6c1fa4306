/**
 * `npm run faults -- --seed N --duration S [--keep]`: runs the fault
 * campaign (campaign.ts) and exits 0 only when it passes. Without --seed a
 * seed is drawn and printed, so any run can be replayed.
 */
import { parseArgs } from "node:util";
import { runCampaign } from "./campaign.ts";

const usage = "usage: npm run faults -- [--seed N] [--duration SECONDS] [--keep]";

function fail(message: string): never {
  console.error(`${message}\n${usage}`);
  process.exit(2);
}

function wholeNumber(text: string | undefined, fallback: number, name: string): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) fail(`--${name} expects a whole number, got "${text}"`);
  return value;
}

function parseCommandLine() {
  try {
    return parseArgs({
      options: {
        seed: { type: "string" },
        duration: { type: "string" },
        keep: { type: "boolean", default: false },
        help: { type: "boolean", default: false },
      },
    }).values;
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
}

const flags = parseCommandLine();
if (flags.help) {
  console.log(usage);
  process.exit(0);
}
const result = await runCampaign({
  seed: wholeNumber(flags.seed, Math.floor(Math.random() * 1_000_000), "seed"),
  durationMs: wholeNumber(flags.duration, 60, "duration") * 1000,
  keepRunDirectory: flags.keep,
});
// KafkaJS may keep timers alive; the verdict is in.
process.exit(result.passed ? 0 : 1);
