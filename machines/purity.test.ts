/**
 * The rules of machines/README.md that a program can check.
 *
 * Sources: every non-test .ts file under machines/ is parsed (comments and
 * strings are not code, so a comment saying "no Date.now()" is fine) and
 * may import only "xstate" and files in machines/, and may not use `invoke`,
 * `after`, actors, the clock, randomness, timers or `process`.
 *
 * Machines: for every machine in machines/registry.ts, every state node and
 * every transition has a one-line description, and its eventDescriptions has
 * one line for each event type it accepts and none for an event it ignores.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { type AnyStateMachine, type AnyStateNode, type AnyTransitionDefinition, setup } from "xstate";
import { machineNames, machineRegistry } from "./registry.ts";

const machinesDirectory = path.dirname(fileURLToPath(import.meta.url));
const repository = path.dirname(machinesDirectory);

function sourceFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true })
    .flatMap((entry) => {
      const full = path.join(directory, entry.name);
      if (entry.isDirectory()) return sourceFiles(full);
      return entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts") ? [full] : [];
    })
    .sort();
}

/** Names from xstate that start actors, whose work is I/O or time the model checker cannot see. */
const ACTOR_APIS = new Set([
  "createActor",
  "interpret",
  "spawnChild",
  "fromPromise",
  "fromCallback",
  "fromObservable",
  "fromEventObservable",
  "waitFor",
  "toPromise",
]);
const TIMERS = new Set(["setTimeout", "setInterval", "setImmediate", "queueMicrotask"]);
/** `object.property` uses that read the clock or draw randomness. */
const FORBIDDEN_MEMBERS: Record<string, string> = {
  "Date.now": "reads the clock",
  "Math.random": "draws randomness",
  "performance.now": "reads the clock",
  "crypto.randomUUID": "draws randomness",
  "crypto.getRandomValues": "draws randomness",
};

function propertyNameText(name: ts.PropertyName): string | null {
  if (ts.isIdentifier(name) || ts.isStringLiteral(name) || ts.isNoSubstitutionTemplateLiteral(name))
    return name.text;
  return null;
}

/** Every rule the file breaks, as `machines/file.ts:line: what`. */
function impurities(file: string, text = readFileSync(file, "utf8")): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const relative = path.relative(repository, file);
  const found: string[] = [];
  const report = (node: ts.Node, message: string) => {
    const { line } = source.getLineAndCharacterOfPosition(node.getStart(source));
    found.push(`${relative}:${line + 1}: ${message}`);
  };
  // The path generators beside the machines (testing/) explore them with xstate's own graph
  // module, which is as pure as the machines it walks.
  const inTesting = file.startsWith(path.join(machinesDirectory, "testing") + path.sep);
  const checkImport = (node: ts.Node, specifier: string) => {
    if (specifier === "xstate" || (inTesting && specifier === "xstate/graph")) return;
    if (specifier.startsWith("node:")) {
      report(node, `imports "${specifier}": machines do no I/O`);
      return;
    }
    if (specifier.startsWith("./") || specifier.startsWith("../")) {
      const target = path.resolve(path.dirname(file), specifier);
      if (target.startsWith(machinesDirectory + path.sep)) return;
    }
    report(node, `imports "${specifier}": only "xstate" and files in machines/ may be imported`);
  };

  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier) {
      if (ts.isStringLiteral(node.moduleSpecifier)) checkImport(node, node.moduleSpecifier.text);
      if (
        ts.isImportDeclaration(node) &&
        ts.isStringLiteral(node.moduleSpecifier) &&
        node.moduleSpecifier.text === "xstate" &&
        node.importClause?.namedBindings &&
        ts.isNamedImports(node.importClause.namedBindings)
      ) {
        for (const element of node.importClause.namedBindings.elements) {
          const imported = (element.propertyName ?? element.name).text;
          if (ACTOR_APIS.has(imported))
            report(element, `imports ${imported} from xstate: machines start no actors`);
        }
      }
    }
    if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      const expression = node.moduleReference.expression;
      if (ts.isStringLiteral(expression)) checkImport(node, expression.text);
    }
    if (ts.isCallExpression(node)) {
      const callee = node.expression;
      const isDynamicImport = callee.kind === ts.SyntaxKind.ImportKeyword;
      const isRequire = ts.isIdentifier(callee) && callee.text === "require";
      if (isDynamicImport || isRequire) {
        const [argument] = node.arguments;
        if (argument && ts.isStringLiteral(argument)) checkImport(node, argument.text);
        else report(node, "imports a computed module name");
      }
      if (ts.isIdentifier(callee) && callee.text === "Date") report(node, "Date() reads the clock");
    }
    if (ts.isNewExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === "Date") {
      report(node, "new Date reads the clock");
    }
    if (ts.isPropertyAccessExpression(node) && ts.isIdentifier(node.expression)) {
      const member = `${node.expression.text}.${node.name.text}`;
      const why = FORBIDDEN_MEMBERS[member];
      if (why) report(node, `${member} ${why}`);
      if (node.expression.text === "process") report(node, `${member}: machines do not touch the process`);
    }
    if (ts.isIdentifier(node) && TIMERS.has(node.text)) {
      const parent = node.parent;
      const isPropertyName =
        (ts.isPropertyAccessExpression(parent) && parent.name === node) ||
        (ts.isPropertyAssignment(parent) && parent.name === node);
      if (!isPropertyName) report(node, `${node.text}: machines set no timers; time arrives as events`);
    }
    if (
      (ts.isPropertyAssignment(node) ||
        ts.isShorthandPropertyAssignment(node) ||
        ts.isMethodDeclaration(node)) &&
      ts.isObjectLiteralExpression(node.parent)
    ) {
      const name = propertyNameText(node.name);
      if (name === "invoke") report(node, "invoke: machines invoke no actors; the runtime does the work");
      if (name === "after") report(node, "after: delayed transitions read the clock; use a timeout event");
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

describe("machine sources", () => {
  const files = sourceFiles(machinesDirectory);

  it("are found", () => {
    expect(files.map((file) => path.relative(machinesDirectory, file))).toEqual(
      expect.arrayContaining(["registry.ts", ...machineNames.map((name) => `${name}.ts`)]),
    );
  });

  it.each(files.map((file) => [path.relative(repository, file), file]))(
    "%s imports only xstate (and, for the generators in testing/, xstate/graph) and machines/, and uses no invoke, after, clock, randomness, timer or process",
    (_relative, file) => {
      expect(impurities(file)).toEqual([]);
    },
  );

  it("every file that creates a machine is in the registry", () => {
    const creators = files
      .filter((file) => /\bcreateMachine\s*\(/.test(readFileSync(file, "utf8")))
      .map((file) => path.relative(machinesDirectory, file).replace(/\.ts$/, ""));
    expect(creators.filter((name) => !(machineNames as readonly string[]).includes(name))).toEqual([]);
  });

  it("catches what it is meant to catch, and not comments or strings", () => {
    const sample = [
      'import { readFileSync } from "node:fs";',
      'import { thing } from "../impl/log.ts";',
      'import { fromPromise, setup } from "xstate";',
      "// no Date.now() here, and no invoke: in a comment",
      'const text = "after: Math.random() in a string";',
      "const machine = setup({}).createMachine({",
      "  invoke: { src: 'x' },",
      "  states: { a: { after: { 1000: 'b' } } },",
      "});",
      "const now = Date.now() + new Date().getTime() + Math.random() + performance.now();",
      "setTimeout(() => {}, 1);",
      "const env = process.env;",
    ].join("\n");
    expect(impurities(path.join(machinesDirectory, "sample.ts"), sample)).toEqual([
      'machines/sample.ts:1: imports "node:fs": machines do no I/O',
      'machines/sample.ts:2: imports "../impl/log.ts": only "xstate" and files in machines/ may be imported',
      "machines/sample.ts:3: imports fromPromise from xstate: machines start no actors",
      "machines/sample.ts:7: invoke: machines invoke no actors; the runtime does the work",
      "machines/sample.ts:8: after: delayed transitions read the clock; use a timeout event",
      "machines/sample.ts:10: Date.now reads the clock",
      "machines/sample.ts:10: new Date reads the clock",
      "machines/sample.ts:10: Math.random draws randomness",
      "machines/sample.ts:10: performance.now reads the clock",
      "machines/sample.ts:11: setTimeout: machines set no timers; time arrives as events",
      "machines/sample.ts:12: process.env: machines do not touch the process",
    ]);
  });
});

function stateNodes(node: AnyStateNode): AnyStateNode[] {
  return [node, ...Object.values(node.states as Record<string, AnyStateNode>).flatMap(stateNodes)];
}

function transitionsOf(node: AnyStateNode): AnyTransitionDefinition[] {
  return [...[...node.transitions.values()].flat(), ...(node.always ?? [])];
}

function transitionName(transition: AnyTransitionDefinition): string {
  const branches = transition.source.transitions.get(transition.eventType) ?? transition.source.always ?? [];
  return `${transition.source.id} --${transition.eventType || "always"}#${branches.indexOf(transition)}`;
}

/** Why a description is not a proper one-line description, or null when it is. */
function descriptionProblem(description: unknown): string | null {
  if (typeof description !== "string" || description.trim() === "") return "has no description";
  if (/[\r\n]/.test(description)) return "has a description of more than one line";
  return null;
}

/** Event types the machine accepts: `machine.events` and every event with a transition. */
function acceptedEvents(nodes: AnyStateNode[], machineEvents: readonly string[]): string[] {
  const types = new Set<string>(machineEvents);
  for (const node of nodes) for (const type of node.transitions.keys()) types.add(type);
  return [...types].filter((type) => !type.startsWith("xstate.")).sort();
}

interface DescriptionFindings {
  states: string[];
  transitions: string[];
  events: string[];
  unaccepted: string[];
  badlyNamed: string[];
}

function descriptionFindings(
  machine: AnyStateMachine,
  eventDescriptions: Readonly<Record<string, string>>,
): DescriptionFindings {
  const nodes = stateNodes(machine.root);
  const accepted = acceptedEvents(nodes, machine.events as string[]);
  return {
    states: nodes.flatMap((node) => {
      const problem = descriptionProblem(node.description);
      return problem ? [`state ${node.id} ${problem}`] : [];
    }),
    transitions: nodes.flatMap(transitionsOf).flatMap((transition) => {
      const problem = descriptionProblem(transition.description);
      return problem ? [`transition ${transitionName(transition)} ${problem}`] : [];
    }),
    events: accepted.flatMap((type) => {
      const problem = descriptionProblem(eventDescriptions[type]);
      return problem ? [`event ${type} ${problem} in eventDescriptions`] : [];
    }),
    unaccepted: Object.keys(eventDescriptions)
      .filter((type) => !accepted.includes(type))
      .map((type) => `eventDescriptions has ${type}, which no state accepts`),
    badlyNamed: accepted
      .filter((type) => !/^[a-z][A-Za-z0-9]*(\.[a-z][A-Za-z0-9]*)+$/.test(type))
      .map((type) => `event ${type} is not named domain.verb`),
  };
}

describe.each(machineRegistry.map((entry) => [entry.name, entry] as const))("machine %s", (_name, entry) => {
  const findings = descriptionFindings(entry.machine, entry.eventDescriptions);

  it("has a one-line description on the machine and every state node", () => {
    expect(findings.states).toEqual([]);
  });

  it("has a one-line description on every transition", () => {
    expect(findings.transitions).toEqual([]);
  });

  it("describes every event type it accepts in eventDescriptions", () => {
    expect(findings.events).toEqual([]);
  });

  it("describes no event it does not accept", () => {
    expect(findings.unaccepted).toEqual([]);
  });

  it("names its events domain.verb", () => {
    expect(findings.badlyNamed).toEqual([]);
  });
});

describe("the description checks", () => {
  it("find every missing or stale description", () => {
    const machine = setup({
      types: { events: {} as { type: "door.opened" } | { type: "Closed" } },
    }).createMachine({
      id: "bare",
      initial: "shut",
      states: {
        shut: { description: "Shut", on: { "door.opened": { target: "open" } } },
        open: {
          description: "Open\nand two lines",
          on: { Closed: { target: "shut", description: "Shuts" } },
        },
      },
    });
    expect(descriptionFindings(machine, { "door.opened": "Opened", "door.knocked": "Knocked" })).toEqual({
      states: ["state bare has no description", "state bare.open has a description of more than one line"],
      transitions: ["transition bare.shut --door.opened#0 has no description"],
      events: ["event Closed has no description in eventDescriptions"],
      unaccepted: ["eventDescriptions has door.knocked, which no state accepts"],
      badlyNamed: ["event Closed is not named domain.verb"],
    });
  });
});
