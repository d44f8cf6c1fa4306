/**
 * The docs/machines/ pages: one Markdown page per machine (title, summary,
 * the Mermaid diagram, a link to the Graphviz SVG beside it, tables of
 * states, events and transitions) and a README indexing them. Generated
 * from the machines, never edited by hand: `npm run docs:machines` writes
 * them and impl/diagrams/docs.test.ts fails when the committed files differ.
 */
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { toDot } from "./dot.ts";
import type { DiagramSource } from "./formats.ts";
import { toMermaid } from "./mermaid.ts";
import { describeMachine, type MachineGraph, shortName, type TransitionInfo } from "./model.ts";
import { dotToSvg } from "./svg.ts";

export const DOCS_COMMAND = "npm run docs:machines";

/** A generated file: its name inside the docs folder and its content. */
export interface DocFile {
  name: string;
  content: string;
}

/** Text for a Markdown table cell. */
function cell(text: string): string {
  return text.replace(/\s+/g, " ").replace(/\|/g, "\\|").trim();
}

function code(text: string): string {
  return `\`${text.replace(/`/g, "'")}\``;
}

function table(header: string[], rows: string[][]): string[] {
  return [
    `| ${header.join(" | ")} |`,
    `| ${header.map(() => "---").join(" | ")} |`,
    ...rows.map((row) => `| ${row.join(" | ")} |`),
  ];
}

/** `from → to [guard] / actions`, `from (stays) ...` for a transition with no target. */
function transitionSummary(graph: MachineGraph, transition: TransitionInfo): string {
  const from = code(shortName(graph, transition.source));
  const to =
    transition.targets.length === 0
      ? " (stays)"
      : ` → ${transition.targets.map((target) => code(shortName(graph, target))).join(", ")}`;
  const guard = transition.guard ? ` [${code(transition.guard)}]` : "";
  const actions = transition.actions.length > 0 ? ` / ${transition.actions.map(code).join(", ")}` : "";
  return `${from}${to}${guard}${actions}`;
}

function stateType(graph: MachineGraph, id: string): string {
  const state = graph.states.find((candidate) => candidate.id === id)!;
  const parent = state.parent ? graph.states.find((candidate) => candidate.id === state.parent) : undefined;
  return parent?.initial === state.id ? `${state.type}, initial` : state.type;
}

export function machinePage(source: DiagramSource, graph: MachineGraph): string {
  const lines: string[] = [];
  const transitions = graph.transitions;
  const states = graph.states.filter((state) => state.id !== graph.root);
  lines.push(
    `<!-- Generated from machines/${source.name}.ts by \`${DOCS_COMMAND}\`; do not edit by hand. -->`,
    "",
    `# ${source.title}`,
    "",
    source.summary,
    "",
    `Machine ${code(graph.id)} in [machines/${source.name}.ts](../../machines/${source.name}.ts)` +
      (graph.description ? `: ${graph.description.replace(/\.$/, "")}.` : ".") +
      ` ${states.length} states, ${transitions.length} transitions, ${graph.events.length} events.`,
    "",
    "## Diagram",
    "",
    `The same statechart drawn by Graphviz, with the transitions that keep a state listed inside it and ` +
      `every description as a tooltip: [${source.name}.svg](${source.name}.svg).`,
    "",
    "```mermaid",
    toMermaid(graph).trimEnd(),
    "```",
    "",
    "## States",
    "",
  );
  const hasEntryExit = graph.states.some((state) => state.entry.length > 0 || state.exit.length > 0);
  lines.push(
    ...table(
      ["state", "type", "description", ...(hasEntryExit ? ["entry / exit"] : [])],
      graph.states.map((state) => [
        code(shortName(graph, state.id)),
        state.id === graph.root ? "machine" : stateType(graph, state.id),
        cell(state.description ?? "(no description)"),
        ...(hasEntryExit
          ? [
              [
                state.entry.length > 0 ? `entry: ${state.entry.map(code).join(", ")}` : "",
                state.exit.length > 0 ? `exit: ${state.exit.map(code).join(", ")}` : "",
              ]
                .filter((part) => part !== "")
                .join("<br>"),
            ]
          : []),
      ]),
    ),
    "",
    "## Events",
    "",
    ...table(
      ["event", "description", "transitions"],
      graph.events.map((event) => [
        code(event.type),
        cell(event.description ?? "(no description)"),
        event.transitions
          .map((key) => transitionSummary(graph, transitions.find((transition) => transition.key === key)!))
          .join("<br>"),
      ]),
    ),
    "",
    "## Transitions",
    "",
    "In the order the machine tries them: by state, then event, then branch; the first whose guard holds is taken.",
    "",
    ...table(
      ["from", "event", "guard", "to", "actions", "description"],
      transitions.map((transition) => [
        code(shortName(graph, transition.source)),
        code(transition.event === "" ? "always" : transition.event),
        transition.guard ? code(transition.guard) : "",
        transition.targets.length === 0
          ? "(stays)"
          : transition.targets.map((target) => code(shortName(graph, target))).join(", "),
        transition.actions.map(code).join(", "),
        cell(transition.description ?? "(no description)"),
      ]),
    ),
    "",
  );
  return lines.join("\n");
}

export function indexPage(sources: readonly DiagramSource[], graphs: readonly MachineGraph[]): string {
  const lines = [
    `<!-- Generated by \`${DOCS_COMMAND}\`; do not edit by hand. -->`,
    "",
    "# The machines",
    "",
    "The control plane's statecharts, generated from [machines/](../../machines/) by " +
      `\`${DOCS_COMMAND}\`. A test fails when these pages differ from what the machines generate.`,
    "",
    ...table(
      ["machine", "what it is", "states", "transitions", "events", "diagram"],
      sources.map((source, index) => {
        const graph = graphs[index]!;
        return [
          `[${source.title}](${source.name}.md)`,
          cell(source.summary),
          String(graph.states.length - 1),
          String(graph.transitions.length),
          String(graph.events.length),
          `[SVG](${source.name}.svg)`,
        ];
      }),
    ),
    "",
    "Each diagram also comes out of the command line:",
    "",
    "```sh",
    "bin/chronik machines export [NAME] --format mermaid|dot|svg|json [--out DIR]",
    "```",
    "",
  ];
  return lines.join("\n");
}

/** Every file of docs/machines/, in a fixed order. */
export async function generateDocs(sources: readonly DiagramSource[]): Promise<DocFile[]> {
  const graphs = sources.map((source) => describeMachine(source.machine, source.eventDescriptions));
  const files: DocFile[] = [{ name: "README.md", content: indexPage(sources, graphs) }];
  for (const [index, source] of sources.entries()) {
    const graph = graphs[index]!;
    files.push({ name: `${source.name}.md`, content: machinePage(source, graph) });
    files.push({
      name: `${source.name}.svg`,
      content: await dotToSvg(toDot(graph, { title: source.title })),
    });
  }
  return files;
}

/** Files of the docs folder that were generated by an older version: Markdown and SVG not generated now. */
async function staleFiles(directory: string, files: readonly DocFile[]): Promise<string[]> {
  const names = new Set(files.map((file) => file.name));
  const present = await readdir(directory).catch(() => [] as string[]);
  return present.filter((name) => /\.(md|svg)$/.test(name) && !names.has(name)).sort();
}

/** Writes the files into `directory`, removing Markdown and SVG files it no longer generates. */
export async function writeDocs(directory: string, files: readonly DocFile[]): Promise<string[]> {
  await mkdir(directory, { recursive: true });
  for (const name of await staleFiles(directory, files)) await rm(path.join(directory, name));
  for (const file of files) await writeFile(path.join(directory, file.name), file.content);
  return files.map((file) => path.join(directory, file.name));
}

/**
 * What differs between `directory` and the files: one line per file, empty
 * when current. Paths are shown under `shownAs` (the directory by default).
 */
export async function compareDocs(
  directory: string,
  files: readonly DocFile[],
  shownAs = directory,
): Promise<string[]> {
  const problems: string[] = [];
  for (const file of files) {
    const where = path.join(shownAs, file.name);
    const committed = await readFile(path.join(directory, file.name), "utf8").catch(() => null);
    if (committed === null) problems.push(`${where} is missing`);
    else if (committed !== file.content) problems.push(`${where} differs from what the machines generate`);
  }
  for (const name of await staleFiles(directory, files)) {
    problems.push(`${path.join(shownAs, name)} is not generated by any machine any more`);
  }
  return problems;
}
