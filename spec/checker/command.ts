/**
 * `chronik check MODEL [--depth N] [--max-states N] [--dfs]` and `chronik check
 * --all` (every model to its CI bounds, as `npm run check` runs), as a function of
 * its arguments, the model registry and its output streams, so tests can run
 * it. Exit codes: 0 no violation and every sometimes property reached; 1 a
 * violation (after its transcript) or an unreached sometimes property; 2 a
 * usage error such as an unknown model.
 */
import { Command, CommanderError, InvalidArgumentError } from "commander";
import type { ModelEntry } from "./model.ts";
import { formatSummary, formatViolation } from "./report.ts";
import { search } from "./search.ts";

export interface CommandIo {
  out(text: string): void;
  err(text: string): void;
}

const processIo: CommandIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

/** Runs the command on `args` (the words after `chronik`, starting with `check`); returns the exit code. */
export async function runCheckCommand(
  args: string[],
  models: readonly ModelEntry[],
  io: CommandIo = processIo,
): Promise<number> {
  let exitCode = 0;
  const program = new Command()
    .name("chronik")
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err });
  program
    .command("check")
    .description("explore cluster models exhaustively to a bound, checking their invariants")
    .argument("[model]", "the model to check (see spec/models)")
    .option("--all", "check every model, each to the bounds CI uses")
    .option(
      "--depth <n>",
      "explore at most this many steps from an initial state (default: the CI bound)",
      count,
    )
    .option("--max-states <n>", "stop after this many distinct states (default: the CI bound)", count)
    .option("--dfs", "depth-first instead of breadth-first (counterexamples may not be shortest)")
    .action((name: string | undefined, options: CheckOptions) => {
      if (options.all && name !== undefined) {
        io.err(`chronik check: give a model or --all, not both\n`);
        exitCode = 2;
        return;
      }
      if (options.all && (options.depth !== undefined || options.maxStates !== undefined)) {
        io.err(`chronik check: --all uses each model's CI bounds; --depth and --max-states need one model\n`);
        exitCode = 2;
        return;
      }
      const chosen = options.all ? models : models.filter((m) => m.name === name);
      if (chosen.length === 0) {
        io.err(
          models.length === 0
            ? `chronik check: no models are registered (spec/models/index.ts)\n`
            : `chronik check: ${name === undefined ? "which model?" : `unknown model "${name}"`} ` +
                `Give one of these, or --all:\n` +
                models.map((m) => `  ${m.name}  ${m.description}\n`).join(""),
        );
        exitCode = 2;
        return;
      }
      const summaries: string[] = [];
      for (const entry of chosen) {
        const passed = checkOne(entry, options, io, summaries);
        if (!passed) exitCode = 1;
      }
      if (chosen.length > 1) io.out(`\n${summaries.join("\n")}\n`);
    });
  try {
    await program.parseAsync(args, { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    throw error;
  }
  return exitCode;
}

interface CheckOptions {
  all?: boolean;
  depth?: number;
  maxStates?: number;
  dfs?: boolean;
}

/** Explores one model, prints its transcript (if violated) and summary; true when it passed. */
function checkOne(entry: ModelEntry, options: CheckOptions, io: CommandIo, summaries: string[]): boolean {
  const depth = options.depth ?? entry.ciBounds.depth;
  const maxStates = options.maxStates ?? entry.ciBounds.maxStates;
  const strategy = options.dfs ? "dfs" : "bfs";
  io.err(`checking ${entry.name} (${strategy}, depth ${depth}, at most ${maxStates} states)\n`);
  const model = entry.create();
  const result = search(model, {
    strategy,
    maxDepth: depth,
    maxStates,
    progress: (line) => io.err(`${line}\n`),
  });
  if (result.violation) io.out(`${formatViolation(model, result.violation)}\n`);
  const summary = formatSummary(entry.name, result);
  summaries.push(summary);
  io.out(`${summary}\n`);
  return result.passed;
}

function count(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError("expected a non-negative integer");
  return Number(value);
}
