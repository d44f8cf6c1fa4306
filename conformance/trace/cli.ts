/**
 * `chronik trace check FILE...` (bin/chronik routes `trace` here: the checker
 * reads spec/'s invariants, and impl/ never imports spec/). Exits 0 when every
 * transition replays and every invariant holds, 1 on a violation, 2 when a
 * trace cannot be read.
 */
import { Command, CommanderError } from "commander";
import { TraceChecker, type TraceCheckResult, tracedInvariants, untracedInvariants } from "./trace-check.ts";
import { mergedTraceLines, TraceFormatError } from "./trace-files.ts";

function summary(result: TraceCheckResult, files: number): string[] {
  const transitions = Object.entries(result.transitionsByMachine)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([machine, count]) => `${machine} ${count}`)
    .join(", ");
  const total = Object.values(result.transitionsByMachine).reduce((sum, count) => sum + count, 0);
  return [
    `${files} trace files, ${result.lines} lines`,
    `transitions replayed: ${total} (${transitions || "none"})`,
    `invariants checked on ${result.statesChecked} states: ${tracedInvariants.map((i) => i.name).join(", ")}`,
    `not carried by traces (record contents): ${untracedInvariants.join(", ")}`,
  ];
}

// A reader that went away (`| head`) ends the output, not the check with a stack trace.
process.stdout.on("error", () => process.exit(process.exitCode ?? 0));

const program = new Command()
  .name("chronik trace")
  .description("work with machine transition traces (chronik start --trace FILE)")
  .exitOverride();

program
  .command("check")
  .description(
    "merge the nodes' traces, replay every transition with its machine, and check the cluster-wide invariants",
  )
  .argument("<files...>", "trace files, one or more per node")
  .action(async (files: string[]) => {
    const checker = new TraceChecker();
    const tornTails: string[] = [];
    for await (const line of mergedTraceLines(files, (where) => tornTails.push(where))) checker.take(line);
    const result = checker.finish();
    for (const line of summary(result, files.length)) process.stdout.write(`${line}\n`);
    for (const torn of tornTails) process.stdout.write(`skipped a half-written last line at ${torn}\n`);
    for (const violation of result.violations) {
      process.stdout.write(`\nVIOLATION (${violation.kind}) ${violation.message}\n`);
      process.stdout.write("  steps up to it:\n");
      for (const step of violation.steps) process.stdout.write(`    ${step}\n`);
    }
    const count = result.violations.length + result.violationsOmitted;
    if (result.violationsOmitted > 0)
      process.stdout.write(`... and ${result.violationsOmitted} more violations\n`);
    process.stdout.write(
      count === 0 ? "trace check: passed\n" : `trace check: FAILED with ${count} violations\n`,
    );
    process.exitCode = count === 0 ? 0 : 1;
  });

try {
  await program.parseAsync(["node", "chronik-trace", ...process.argv.slice(3)]);
} catch (error) {
  if (error instanceof CommanderError) process.exit(error.exitCode);
  process.stderr.write(`chronik trace: ${(error as Error).message}\n`);
  process.exit(
    error instanceof TraceFormatError || (error as NodeJS.ErrnoException).code === "ENOENT" ? 2 : 1,
  );
}
