/**
 * Graphviz DOT for a machine. Atomic and final states are rounded boxes with
 * their name, their description and, as in UML, the transitions that keep
 * the state (actions only, no target) listed inside them; compound and
 * parallel states are clusters with the same label, and the machine's own
 * kept-state transitions are listed under the title. A compound state's
 * (or the machine's) transitions into its own children start from an
 * "any state" node inside it. Edges carry `event [guard] / actions`; every
 * state, edge and listed transition has its description as a tooltip (the
 * SVG shows it on hover).
 */
import { type MachineGraph, type StateInfo, type TransitionInfo, wrap } from "./model.ts";

const FONT = "Helvetica";
const INK = "#2d3748";
const MUTED = "#4a5568";
const LINE = "#5a6b80";
const DESCRIPTION_WIDTH = 40;
/** Edge labels stay narrow so the layout keeps edges apart; lists inside a state can be wider. */
const LABEL_WIDTH = 40;
const LISTED_WIDTH = 56;

/** A quoted DOT id or string. */
function quote(text: string): string {
  return `"${text.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`;
}

/** Text inside an HTML-like label. */
function html(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/**
 * A transition label as lines of at most `width` characters: the event, then
 * the guard, then the actions, breaking only between those pieces.
 */
export function labelLines(transition: TransitionInfo, width = LABEL_WIDTH): string[] {
  const pieces = [transition.event === "" ? "always" : transition.event];
  // A long guard (`and(a, b, not(c))`) may break after its commas.
  if (transition.guard)
    pieces.push(...`[${transition.guard}]`.split(/(?<=, )/).map((piece) => piece.trimEnd()));
  transition.actions.forEach((action, index) => {
    const last = index === transition.actions.length - 1;
    pieces.push(`${index === 0 ? "/ " : ""}${action}${last ? "" : ","}`);
  });
  const lines: string[] = [];
  for (const piece of pieces) {
    const current = lines[lines.length - 1];
    if (current !== undefined && current.length + 1 + piece.length <= width)
      lines[lines.length - 1] = `${current} ${piece}`;
    else lines.push(piece);
  }
  return lines;
}

function rows(lines: string[], attributes: string, fontOpen = "", fontClose = ""): string[] {
  return lines.map((line) => `<tr><td${attributes}>${fontOpen}${html(line)}${fontClose}</td></tr>`);
}

/** The HTML-like label of a state box or cluster: name, description, kept-state transitions. */
function stateLabel(
  title: string,
  description: string | null,
  internal: TransitionInfo[],
  titleSize = 0,
): string {
  const name = titleSize > 0 ? `<font point-size="${titleSize}">${html(title)}</font>` : html(title);
  const parts = [
    '<table border="0" cellborder="0" cellspacing="0" cellpadding="2">',
    `<tr><td><b>${name}</b></td></tr>`,
  ];
  if (description) {
    parts.push(
      ...rows(wrap(description, DESCRIPTION_WIDTH), "", `<font point-size="9" color="${MUTED}">`, "</font>"),
    );
  }
  if (internal.length > 0) {
    parts.push('<tr><td height="3"></td></tr>', "<hr/>");
    for (const transition of internal) {
      const [first = "", ...rest] = labelLines(transition, LISTED_WIDTH);
      const cell = ` align="left" tooltip="${html(transition.description ?? transition.key)}"`;
      parts.push(...rows([first], cell, '<font point-size="9">', "</font>"));
      parts.push(...rows(rest, cell, '<font point-size="9">  ', "</font>"));
    }
  }
  parts.push("</table>");
  return `<${parts.join("")}>`;
}

function attributes(entries: Array<[string, string | null]>): string {
  const present = entries.filter((entry): entry is [string, string] => entry[1] !== null);
  return present.map(([name, value]) => `${name}=${value}`).join(", ");
}

export interface DotOptions {
  /** The diagram's heading; the machine id when absent. */
  title?: string;
}

export function toDot(graph: MachineGraph, options: DotOptions = {}): string {
  const byId = new Map(graph.states.map((state) => [state.id, state]));
  const rootState = byId.get(graph.root)!;
  const isCluster = (state: StateInfo) => state.type === "compound" || state.type === "parallel";
  const isWithin = (id: string, ancestor: string): boolean => {
    for (
      let current = byId.get(id);
      current;
      current = current.parent ? byId.get(current.parent) : undefined
    ) {
      if (current.id === ancestor) return true;
    }
    return false;
  };
  // A cluster's edges from and to outside it end at its initial point (a parallel state has an invisible
  // one), clipped to the cluster's border; its transitions into itself start from its "any state" node.
  const anchorOf = (state: StateInfo) =>
    state.type === "compound" && state.initial ? `${state.id}::initial` : `${state.id}::anchor`;
  const anyStateOf = (state: StateInfo) => `${state.id}::any`;
  const nodeOf = (state: StateInfo) => (isCluster(state) ? anchorOf(state) : state.id);
  const internalOf = (id: string) =>
    graph.transitions.filter((transition) => transition.source === id && transition.targets.length === 0);
  const needsAnyState = (state: StateInfo) =>
    graph.transitions.some(
      (transition) =>
        transition.source === state.id && transition.targets.some((target) => isWithin(target, state.id)),
    );
  const lines: string[] = [];

  lines.push(`digraph ${quote(graph.id)} {`);
  lines.push(
    `  graph [${attributes([
      ["compound", "true"],
      ["rankdir", "TB"],
      ["newrank", "true"],
      ["fontname", quote(FONT)],
      ["fontsize", "12"],
      ["fontcolor", quote(INK)],
      ["labelloc", "t"],
      ["label", stateLabel(options.title ?? graph.id, graph.description, internalOf(graph.root), 14)],
      ["nodesep", "0.6"],
      ["ranksep", "0.5"],
      ["pad", "0.25"],
    ])}]`,
  );
  lines.push(
    `  node [shape=box, style="rounded,filled", fillcolor="#f7f9fc", color=${quote(LINE)}, ` +
      `fontname=${quote(FONT)}, fontsize=11, fontcolor=${quote(INK)}, margin="0.2,0.07"]`,
  );
  lines.push(
    `  edge [color=${quote(LINE)}, fontname=${quote(FONT)}, fontsize=9, fontcolor=${quote(INK)}, arrowsize=0.7]`,
  );

  const emitChildren = (parent: StateInfo, depth: number) => {
    const pad = "  ".repeat(depth);
    if (needsAnyState(parent)) {
      lines.push(
        `${pad}${quote(anyStateOf(parent))} [shape=plaintext, style="", label="any state", fontsize=10, ` +
          `fontcolor=${quote(MUTED)}, tooltip=${quote(`transitions ${parent.id === graph.root ? "the machine takes" : `${parent.key} takes`} in any of its states`)}]`,
      );
    }
    if (parent.type === "compound" && parent.initial) {
      const initialPoint = `${parent.id}::initial`;
      lines.push(
        `${pad}${quote(initialPoint)} [shape=point, width=0.14, style=filled, fillcolor=${quote(INK)}, ` +
          `color=${quote(INK)}, label="", tooltip="initial state"]`,
      );
      const initial = byId.get(parent.initial)!;
      const lhead = isCluster(initial) ? `, lhead=${quote(`cluster_${initial.id}`)}` : "";
      lines.push(
        `${pad}${quote(initialPoint)} -> ${quote(nodeOf(initial))} [tooltip="initial state"${lhead}]`,
      );
    }
    for (const childId of parent.children) {
      const child = byId.get(childId)!;
      const tooltip = quote(child.description ?? child.key);
      if (isCluster(child)) {
        lines.push(`${pad}subgraph ${quote(`cluster_${child.id}`)} {`);
        lines.push(
          `${pad}  graph [${attributes([
            ["label", stateLabel(child.key, child.description, internalOf(child.id))],
            ["style", child.type === "parallel" ? quote("rounded,dashed") : quote("rounded")],
            ["color", quote(LINE)],
            ["tooltip", tooltip],
          ])}]`,
        );
        if (anchorOf(child).endsWith("::anchor")) {
          lines.push(`${pad}  ${quote(anchorOf(child))} [shape=point, style=invis, width=0.01, label=""]`);
        }
        emitChildren(child, depth + 1);
        lines.push(`${pad}}`);
      } else {
        const final = child.type === "final" ? [["peripheries", "2"] as [string, string]] : [];
        const history = child.type === "history";
        lines.push(
          `${pad}${quote(child.id)} [${attributes([
            ["label", history ? quote("H") : stateLabel(child.key, child.description, internalOf(child.id))],
            ...final,
            ["shape", history ? "circle" : null],
            ["tooltip", tooltip],
          ])}]`,
        );
      }
    }
  };
  emitChildren(rootState, 1);

  for (const transition of graph.transitions) {
    const source = byId.get(transition.source)!;
    for (const targetId of transition.targets) {
      const target = byId.get(targetId)!;
      const inside = isCluster(source) && isWithin(target.id, source.id);
      const tail = inside ? anyStateOf(source) : nodeOf(source);
      const ltail = isCluster(source) && !inside ? quote(`cluster_${source.id}`) : null;
      const lhead =
        isCluster(target) && !isWithin(source.id, target.id) ? quote(`cluster_${target.id}`) : null;
      const label = `<${labelLines(transition).map(html).join("<br/>")}>`;
      lines.push(
        `  ${quote(tail)} -> ${quote(nodeOf(target))} [${attributes([
          ["label", label],
          ["tooltip", quote(transition.description ?? transition.key)],
          ["ltail", ltail],
          ["lhead", lhead],
        ])}]`,
      );
    }
  }
  lines.push("}");
  return `${lines.join("\n")}\n`;
}
