/**
 * `chronik` command line: start a node, run or manage a cluster, dump a
 * partition's log, export the machines' diagrams. Every flag of `start` can also come from a CHRONIK_*
 * environment variable (--min-insync-replicas ↔ CHRONIK_MIN_INSYNC_REPLICAS);
 * a flag wins.
 */
import { Command, CommanderError } from "commander";
import { addClusterCommand } from "./cluster.ts";
import { addDumpLogCommand } from "./dump-log.ts";
import { addMachinesCommand } from "./machines.ts";
import { addStartCommand } from "./start.ts";

const program = new Command()
  .name("chronik")
  .description("A Kafka-compatible streaming broker whose control plane is a set of statecharts")
  .showHelpAfterError()
  .exitOverride();

addStartCommand(program);
addClusterCommand(program);
addDumpLogCommand(program);
addMachinesCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) process.exit(error.exitCode);
  process.stderr.write(`chronik: ${(error as Error).message}\n`);
  process.exit(1);
}
