/**
 * Entry point of `chronik check` (bin/chronik routes here when the first
 * argument is `check`; it lives in spec/ because impl/ never imports spec/).
 */
import { runCheckCommand } from "./checker/command.ts";
import { models } from "./models/index.ts";

process.exitCode = await runCheckCommand(process.argv.slice(2), models);
