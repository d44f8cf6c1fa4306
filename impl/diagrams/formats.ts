/**
 * One machine in each output format of `chronik machines export`, from a
 * `DiagramSource` (what machines/registry.ts lists for every machine).
 */
import type { AnyStateMachine } from "xstate";
import { toDot } from "./dot.ts";
import { toMermaid } from "./mermaid.ts";
import { describeMachine, type EventDescriptions, type MachineGraph } from "./model.ts";
import { dotToSvg } from "./svg.ts";

export interface DiagramSource {
  /** File-name stem: `raft-quorum`. */
  name: string;
  title: string;
  summary: string;
  machine: AnyStateMachine;
  eventDescriptions: EventDescriptions;
}

export const formats = ["mermaid", "dot", "svg", "json"] as const;
export type Format = (typeof formats)[number];

export const extensions: Record<Format, string> = { mermaid: "mmd", dot: "dot", svg: "svg", json: "json" };

/** The JSON document: the registry's name, title and summary, then the machine graph. */
export interface MachineDocument extends MachineGraph {
  name: string;
  title: string;
  summary: string;
}

export function machineDocument(source: DiagramSource): MachineDocument {
  return {
    name: source.name,
    title: source.title,
    summary: source.summary,
    ...describeMachine(source.machine, source.eventDescriptions),
  };
}

export function toJson(document: MachineDocument | MachineDocument[]): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}

export async function render(source: DiagramSource, format: Format): Promise<string> {
  const graph = describeMachine(source.machine, source.eventDescriptions);
  switch (format) {
    case "mermaid":
      return toMermaid(graph);
    case "dot":
      return toDot(graph, { title: source.title });
    case "svg":
      return dotToSvg(toDot(graph, { title: source.title }));
    case "json":
      return toJson(machineDocument(source));
  }
}
