/**
 * State and transition coverage of a machine by test paths: which state
 * nodes the paths visit and which transition definitions (source, event,
 * guard branch) they take, so a test can show, and assert, that every state
 * and every transition of a machine is exercised.
 */
import {
  type AnyStateMachine,
  type AnyStateNode,
  type AnyTransitionDefinition,
  type EventObject,
  initialTransition,
} from "xstate";

export interface PathLike {
  steps: ReadonlyArray<{ event: EventObject; state: unknown }>;
}

function stateNodes(node: AnyStateNode): AnyStateNode[] {
  return [node, ...Object.values(node.states as Record<string, AnyStateNode>).flatMap(stateNodes)];
}

/** A transition definition's stable name: source state, event, and its position among that event's branches. */
export function transitionKey(transition: AnyTransitionDefinition): string {
  const branches = transition.source.transitions.get(transition.eventType) ?? [];
  return `${transition.source.id} --${transition.eventType}#${branches.indexOf(transition)}`;
}

export function allTransitionKeys(machine: AnyStateMachine): string[] {
  return stateNodes(machine.root).flatMap((node) =>
    [...node.transitions.values()].flatMap((branches) => branches.map(transitionKey)),
  );
}

export function allStateIds(machine: AnyStateMachine): string[] {
  return stateNodes(machine.root).map((node) => node.id);
}

export class Coverage {
  private readonly statesReached = new Set<string>();
  private readonly transitionsTaken = new Set<string>();

  /** `input` is the machine's input, for machines whose initial context is computed from it. */
  constructor(
    private readonly machine: AnyStateMachine,
    input?: unknown,
  ) {
    const [initial] = initialTransition(machine, input);
    for (const id of this.stateIdsOf(initial)) this.statesReached.add(id);
  }

  private stateIdsOf(snapshot: unknown): string[] {
    return (snapshot as { _nodes: AnyStateNode[] })._nodes.map((node) => node.id);
  }

  /** Replays a path's steps, recording each state visited and each transition taken. */
  record(initial: unknown, path: PathLike): void {
    let previous = initial;
    for (const step of path.steps) {
      for (const transition of this.machine.getTransitionData(previous as never, step.event as never)) {
        this.transitionsTaken.add(transitionKey(transition));
      }
      for (const id of this.stateIdsOf(step.state)) this.statesReached.add(id);
      previous = step.state;
    }
  }

  missingStates(): string[] {
    return allStateIds(this.machine).filter((id) => !this.statesReached.has(id));
  }

  missingTransitions(): string[] {
    return allTransitionKeys(this.machine).filter((key) => !this.transitionsTaken.has(key));
  }

  /** One line per measure, for the test output. */
  report(name: string): string {
    const states = allStateIds(this.machine);
    const transitions = allTransitionKeys(this.machine);
    const missingStates = this.missingStates();
    const missingTransitions = this.missingTransitions();
    return [
      `${name}: states ${states.length - missingStates.length}/${states.length}, ` +
        `transitions ${transitions.length - missingTransitions.length}/${transitions.length}`,
      ...missingStates.map((id) => `  state not reached: ${id}`),
      ...missingTransitions.map((key) => `  transition not taken: ${key}`),
    ].join("\n");
  }
}
