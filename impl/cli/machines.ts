/**
 * `chronik machines`: the control plane's statecharts as diagrams.
 *
 *   chronik machines list
 *   chronik machines export [NAME] --format mermaid|dot|svg|json [--out DIR]
 *   chronik machines docs [--out DIR] [--check]
 *
 * Without NAME, export writes every machine; without --out, to stdout, each
 * machine after a comment line naming it (JSON: one array). With --out, one
 * file per machine, `<name>.<mmd|dot|svg|json>`.
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { type Command, Option } from "commander";
import { machineNames, machineRegistry, type RegisteredMachine } from "../../machines/registry.ts";
import { compareDocs, DOCS_COMMAND, generateDocs, writeDocs } from "../diagrams/docs.ts";
import { extensions, type Format, formats, machineDocument, render, toJson } from "../diagrams/formats.ts";

interface ExportOptions {
  format: Format;
  out?: string;
}

function select(name: string | undefined): readonly RegisteredMachine[] {
  if (name === undefined) return machineRegistry;
  const found = machineRegistry.filter((entry) => entry.name === name);
  if (found.length === 0)
    throw new Error(`unknown machine "${name}"; the machines are: ${machineNames.join(", ")}`);
  return found;
}

/** A comment line that separates machines on stdout, in the format's own comment syntax. */
function separator(format: Format, entry: RegisteredMachine): string {
  const text = `---- ${entry.name}: ${entry.title} ----`;
  switch (format) {
    case "mermaid":
      return `%% ${text}`;
    case "dot":
      return `// ${text}`;
    case "svg":
      return `<!-- ${text} -->`;
    case "json":
      return "";
  }
}

export async function exportMachines(
  name: string | undefined,
  options: ExportOptions,
  write: (text: string) => void,
): Promise<string[]> {
  const entries = select(name);
  if (options.out !== undefined) {
    await mkdir(options.out, { recursive: true });
    const written: string[] = [];
    for (const entry of entries) {
      const file = path.join(options.out, `${entry.name}.${extensions[options.format]}`);
      await writeFile(file, await render(entry, options.format));
      written.push(file);
    }
    return written;
  }
  if (entries.length === 1) {
    write(await render(entries[0]!, options.format));
  } else if (options.format === "json") {
    write(toJson(entries.map(machineDocument)));
  } else {
    const parts: string[] = [];
    for (const entry of entries)
      parts.push(`${separator(options.format, entry)}\n${await render(entry, options.format)}`);
    write(parts.join("\n"));
  }
  return [];
}

/** `chronik machines export | head` ends quietly when head closes the pipe. */
function quietOnClosedPipe(): void {
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(0);
    throw error;
  });
}

export function addMachinesCommand(program: Command): void {
  const machines = program
    .command("machines")
    .description("the control plane's statecharts: list them, export their diagrams, generate docs/machines");

  machines
    .command("list")
    .description("name and title of every machine")
    .action(() => {
      for (const entry of machineRegistry) process.stdout.write(`${entry.name}\t${entry.title}\n`);
    });

  machines
    .command("export")
    .description("write the diagram of one machine (NAME) or of all of them")
    .argument("[name]", `one of ${machineNames.join(", ")}; every machine when absent`)
    .addOption(
      new Option("--format <FORMAT>", "diagram format")
        .choices([...formats])
        .default("mermaid" satisfies Format),
    )
    .option("--out <DIR>", "write one file per machine, <name>.<ext>, into DIR instead of stdout")
    .action(async (name: string | undefined, options: ExportOptions) => {
      quietOnClosedPipe();
      const written = await exportMachines(name, options, (text) => process.stdout.write(text));
      for (const file of written) process.stdout.write(`wrote ${file}\n`);
    });

  machines
    .command("docs")
    .description("generate docs/machines/: a page and an SVG per machine, and an index")
    .option("--out <DIR>", "the docs folder", "docs/machines")
    .option("--check", "write nothing; exit 1 when the folder differs from what the machines generate")
    .action(async (options: { out: string; check?: boolean }) => {
      const files = await generateDocs(machineRegistry);
      if (options.check) {
        const problems = await compareDocs(options.out, files);
        if (problems.length > 0) {
          throw new Error(`${problems.join("\n")}\nrun \`${DOCS_COMMAND}\` and commit the result`);
        }
        process.stdout.write(`${options.out} is current\n`);
        return;
      }
      for (const file of await writeDocs(options.out, files)) process.stdout.write(`wrote ${file}\n`);
    });
}
