/**
 * SVG from DOT with @viz-js/viz, Graphviz compiled to WebAssembly and shipped
 * inside the npm package: no network and no system Graphviz needed.
 *
 * Each drawing gets a fresh Graphviz instance (about 70 ms): Graphviz numbers
 * the SVG ids of tooltips with a counter that lives as long as the instance,
 * so reusing one would make the same DOT give different SVG depending on
 * what was drawn before. Fresh, the same DOT always gives the same bytes.
 * The module (a few MB of WebAssembly) is loaded on first use, so commands
 * that draw nothing do not pay for it.
 */
import type { Viz } from "@viz-js/viz";

let vizModule: Promise<typeof import("@viz-js/viz")> | undefined;

async function render(dot: string): Promise<ReturnType<Viz["render"]>> {
  vizModule ??= import("@viz-js/viz");
  const viz = await (await vizModule).instance();
  return viz.render(dot, { format: "svg", engine: "dot" });
}

export async function dotToSvg(dot: string): Promise<string> {
  const result = await render(dot);
  if (result.status !== "success") {
    const messages = result.errors.map((error) => `${error.level ?? "error"}: ${error.message.trim()}`);
    throw new Error(`graphviz failed to render: ${messages.join("; ")}`);
  }
  return result.output.endsWith("\n") ? result.output : `${result.output}\n`;
}

/** Graphviz's warnings for a DOT text (an edge it could not clip to a cluster, ...); empty when clean. */
export async function dotWarnings(dot: string): Promise<string[]> {
  const result = await render(dot);
  return result.errors.map((error) => `${error.level ?? "error"}: ${error.message.trim()}`);
}
