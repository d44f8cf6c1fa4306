/**
 * Mermaid `stateDiagram-v2` for a machine, as GitHub renders it in Markdown.
 *
 * Every state is declared `state "key" as id` and given its description as
 * body lines (`id : text`), so the box shows the name above the description
 * (a lone `id : text` would replace the name). Compound states are blocks
 * with their own `[*]`; a compound state's description is left out because
 * Mermaid would show it instead of the name. A transition that stays in its
 * state is a loop; a compound state's (or the machine's) transitions that
 * stay inside it start from an "any state" box inside it. Each edge is
 * written in the innermost block that holds both of its ends, as Mermaid
 * requires, and edges between the same two boxes share one label.
 */
import { type MachineGraph, type StateInfo, type TransitionInfo, transitionLabel, wrap } from "./model.ts";

const DESCRIPTION_WIDTH = 40;
const RESERVED = new Set(["state", "note", "end", "direction", "class", "classDef", "style", "click", "as"]);

/**
 * Text Mermaid shows as is: `;` ends a statement and `<x` opens an HTML tag,
 * so they become `,` and `‹ ›`.
 */
function text(value: string): string {
  return value.replace(/\s+/g, " ").replace(/;/g, ",").replace(/</g, "‹").replace(/>/g, "›").trim();
}

/** A description as body lines; a line may not end with `:` (Mermaid fails to parse it), so none breaks there. */
function descriptionLines(description: string): string[] {
  const glue = "\u2060"; // word joiner: not white space, so wrap() keeps "x: y" on one line
  const glued = text(description).split(": ").join(`:${glue}`);
  return wrap(glued, DESCRIPTION_WIDTH).map((line) => line.split(glue).join(" ").replace(/:$/, ""));
}

const isBlock = (state: StateInfo) => state.type === "compound" || state.type === "parallel";

export function toMermaid(graph: MachineGraph): string {
  const byId = new Map(graph.states.map((state) => [state.id, state]));
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
  // A block's own transitions that stay in it or lead into it start from an "any state" box inside it.
  const fromAnyState = (transition: TransitionInfo) => {
    const source = byId.get(transition.source)!;
    return (
      isBlock(source) &&
      (transition.targets.length === 0 || transition.targets.some((target) => isWithin(target, source.id)))
    );
  };
  const anyStateOwners = new Set(
    graph.transitions.filter(fromAnyState).map((transition) => transition.source),
  );

  // Ids: "any_state" boxes first (`any_state` for the machine, `<path>_any` inside a block), then each
  // state's key when it is unique and plain, else its path; all made unique in document order.
  const plain = (value: string) => value.replace(/[^A-Za-z0-9_]/g, "_");
  const used = new Set<string>();
  const claim = (candidate: string) => {
    let id = candidate;
    for (let n = 2; used.has(id) || RESERVED.has(id); n++) id = `${candidate}_${n}`;
    used.add(id);
    return id;
  };
  const anyIds = new Map<string, string>();
  for (const state of graph.states) {
    if (anyStateOwners.has(state.id)) {
      anyIds.set(
        state.id,
        claim(state.id === graph.root ? "any_state" : `${plain(state.path.join("_"))}_any`),
      );
    }
  }
  const keyCounts = new Map<string, number>();
  for (const state of graph.states)
    keyCounts.set(plain(state.key), (keyCounts.get(plain(state.key)) ?? 0) + 1);
  const ids = new Map<string, string>();
  for (const state of graph.states) {
    if (state.id === graph.root) continue;
    const key = plain(state.key);
    ids.set(state.id, claim(keyCounts.get(key) === 1 ? key : plain(state.path.join("_"))));
  }
  const idOf = (stateId: string) => ids.get(stateId)!;

  // Each edge goes in the innermost block that holds both of its ends.
  const enclosing = (id: string, inclusive: boolean): string[] => {
    const chain: string[] = inclusive ? [id] : [];
    for (let current = byId.get(id)?.parent; current; current = byId.get(current)?.parent)
      chain.push(current);
    return chain;
  };
  // Mermaid draws edges between the same two boxes on top of each other, so they share one label, a line each.
  const edgesByBlock = new Map<string, Map<string, string[]>>();
  for (const transition of graph.transitions) {
    const pseudo = fromAnyState(transition);
    const tail = pseudo ? anyIds.get(transition.source)! : idOf(transition.source);
    const targets = transition.targets.length > 0 ? transition.targets : [null];
    for (const target of targets) {
      const sourceChain = enclosing(transition.source, pseudo);
      const targetChain = new Set(target === null ? sourceChain : enclosing(target, false));
      const block = sourceChain.find((id) => targetChain.has(id)) ?? graph.root;
      const head = target === null ? tail : idOf(target);
      const edges = edgesByBlock.get(block) ?? new Map<string, string[]>();
      const labels = edges.get(`${tail} --> ${head}`) ?? [];
      labels.push(text(transitionLabel(transition)));
      edges.set(`${tail} --> ${head}`, labels);
      edgesByBlock.set(block, edges);
    }
  }

  const lines = ["stateDiagram-v2"];
  const emitBlock = (parent: StateInfo, depth: number) => {
    const pad = "  ".repeat(depth);
    const anyId = anyIds.get(parent.id);
    if (anyId) lines.push(`${pad}state "any state" as ${anyId}`);
    if (parent.type === "compound" && parent.initial) lines.push(`${pad}[*] --> ${idOf(parent.initial)}`);
    parent.children.forEach((childId, index) => {
      const child = byId.get(childId)!;
      if (parent.type === "parallel" && index > 0) lines.push(`${pad}--`);
      const id = idOf(child.id);
      lines.push(`${pad}state "${text(child.key).replace(/"/g, "'")}" as ${id}`);
      if (isBlock(child)) {
        lines.push(`${pad}state ${id} {`);
        emitBlock(child, depth + 1);
        lines.push(`${pad}}`);
      } else if (child.description) {
        for (const line of descriptionLines(child.description)) lines.push(`${pad}${id} : ${line}`);
      }
      if (child.type === "final") lines.push(`${pad}${id} --> [*]`);
    });
    for (const [edge, labels] of edgesByBlock.get(parent.id) ?? [])
      lines.push(`${pad}${edge} : ${labels.join("<br/>")}`);
  };
  emitBlock(byId.get(graph.root)!, 1);
  return `${lines.join("\n")}\n`;
}
