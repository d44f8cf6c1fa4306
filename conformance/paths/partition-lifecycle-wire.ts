/**
 * The partition lifecycle machine's generated events as stimuli a test can
 * give a real controller over the wire, with the test playing every replica.
 *
 * The real node (id 0) is the controller and no replica: the machine's brokers
 * 1, 2 and 3 are fake brokers (fake-broker.ts), so that any of them can be
 * fenced (a controller's own node never is, impl/controller/broker-liveness.ts)
 * and any of them can send AlterPartition with whatever epochs and ISR the
 * generator asks for (a real leader sends only what its ISR machine proposes).
 *
 * Stimuli: partition.created is CreateTopics with the assignment (and
 * unclean.leader.election.enable when the event says so), after making live
 * exactly the brokers the event names; broker.fenced stops that fake's
 * metadata fetches (its connection closes, and the controller fences it) and
 * broker.unfenced resumes them (registering anew first when the fake went
 * through controlled shutdown, as the controller lets only a new incarnation
 * back); broker.shutdownStarted is that fake's BrokerHeartbeat with
 * want_shut_down, which the controller answers with a controlled shutdown
 * because each fake leads a topic of its own (an anchor). A fake already
 * fenced or shutting down that asks again changes nothing the machines are
 * told of (the controller lets a fenced one go at once, and keeps one in
 * controlled shutdown waiting), so the generator's shutdowns of those have no
 * stimulus; isr.changeRequested is that fake's
 * AlterPartition; topic.configChanged is IncrementalAlterConfigs setting the
 * topic's unclean.leader.election.enable; leader.preferredElectionRequested
 * and leader.uncleanElectionRequested are ElectLeaders of election type 0
 * (preferred) and 1 (unclean); topic.deletionRequested is DeleteTopics.
 */
import { type SnapshotFrom, transition } from "xstate";
import {
  type PartitionLifecycleEvent,
  partitionLifecycleMachine,
} from "../../machines/partition-lifecycle.ts";
import { brokers, isLive, lifecycleEvents } from "../../machines/testing/partition-lifecycle-paths.ts";
import type { WireStep } from "./wire-steps.ts";

type Snapshot = SnapshotFrom<typeof partitionLifecycleMachine>;
export type LifecycleWireStep = WireStep<PartitionLifecycleEvent>;

/**
 * The shared generator, with creations that also enable unclean election, as
 * CreateTopics can set it besides a later IncrementalAlterConfigs.
 */
export const generateLifecycleEvents = lifecycleEvents({ creationsWithUncleanElection: true });

/** Estimated seconds: a fence waits out the controller's reconnect grace, an unfence its next liveness check. */
const fenceSeconds = 1;
const unfenceSeconds = 0.5;
const requestSeconds = 0.05;

function single(event: PartitionLifecycleEvent): LifecycleWireStep {
  return { type: "wire.step", events: [event] };
}

/** The generator's own event of `type` in `snapshot`, which a step's stimulus brings along. */
function generatedEvent(snapshot: Snapshot, type: PartitionLifecycleEvent["type"]): PartitionLifecycleEvent {
  const event = generateLifecycleEvents(snapshot).find((candidate) => candidate.type === type);
  if (event === undefined) throw new Error(`the generator offers no ${type} in ${String(snapshot.value)}`);
  return event;
}

/**
 * The wire steps from a state the controller rests in (NonExistent, Online,
 * Offline; New and Deleting last only within one controller decision, and
 * Deleted is the end). Events with no stimulus are left out: see
 * `whyUnreachableOverTheWire`.
 */
export function lifecycleWireSteps(snapshot: Snapshot): LifecycleWireStep[] {
  const state = snapshot.value;
  if (state !== "NonExistent" && state !== "Online" && state !== "Offline") return [];
  const exists = state !== "NonExistent";
  const steps: LifecycleWireStep[] = [];
  for (const event of generateLifecycleEvents(snapshot)) {
    switch (event.type) {
      case "partition.created": {
        if (exists) break;
        const next = transition(partitionLifecycleMachine, snapshot, event)[0];
        // CreateTopics is answered once the PartitionRecord has committed: both events are one stimulus.
        steps.push({
          type: "wire.step",
          events:
            next.value === "New" ? [event, generatedEvent(next, "partition.creationCommitted")] : [event],
        });
        break;
      }
      case "broker.fenced":
        if (exists && isLive(snapshot.context, event.brokerId)) steps.push(single(event));
        break;
      case "broker.unfenced":
        if (exists && !isLive(snapshot.context, event.brokerId)) steps.push(single(event));
        break;
      case "broker.shutdownStarted":
        // The controller tells the machines of a shutdown only for a live broker; it lets a fenced one go at once.
        if (exists && isLive(snapshot.context, event.brokerId)) steps.push(single(event));
        break;
      case "isr.changeRequested":
        // Only a registered broker can send it; the outsider is named only in ISRs.
        if (brokers.includes(event.brokerId)) steps.push(single(event));
        break;
      case "topic.configChanged":
        // IncrementalAlterConfigs on a topic that does not exist changes nothing the machine knows.
        if (exists) steps.push(single(event));
        break;
      case "leader.preferredElectionRequested":
      case "leader.uncleanElectionRequested":
        steps.push(single(event));
        break;
      case "topic.deletionRequested": {
        if (!exists) break;
        const next = transition(partitionLifecycleMachine, snapshot, event)[0];
        steps.push({ type: "wire.step", events: [event, generatedEvent(next, "topic.deletionCompleted")] });
        break;
      }
      default:
        // partition.creationCommitted and topic.deletionCompleted come only within the steps above;
        // the rest has no stimulus here.
        break;
    }
  }
  return steps;
}

export function lifecycleStepCost(step: LifecycleWireStep): number {
  const first = step.events[0]!;
  switch (first.type) {
    case "partition.created":
      // Setting liveness as the event says: the fakes it leaves out are fenced first, then brought back.
      return requestSeconds + (brokers.length - first.liveBrokers.length) * (fenceSeconds + unfenceSeconds);
    case "broker.fenced":
      return fenceSeconds;
    case "broker.unfenced":
      return unfenceSeconds;
    default:
      return requestSeconds;
  }
}

/**
 * Why a transition of the machine cannot be taken over the wire against this
 * node, or null when it can. The suite asserts that exactly the transitions
 * with a reason here are the ones it did not take.
 */
export function whyUnreachableOverTheWire(transitionKey: string): string | null {
  const [source = "", eventAndBranch = ""] = transitionKey.split(" --");
  const [event = ""] = eventAndBranch.split("#");
  if (source === "partitionLifecycle.New" && event !== "partition.creationCommitted") {
    return (
      "New lasts from the PartitionRecord's append to its commit inside the CreateTopics decision; " +
      "the controller makes one decision at a time on the applied image, so nothing else reaches a partition in New"
    );
  }
  if (transitionKey === "partitionLifecycle.New --partition.creationCommitted#1") {
    return "a partition is created with a live replica to lead, and nothing can take it away while it is New";
  }
  if (source === "partitionLifecycle.Deleting") {
    if (event === "topic.deletionCompleted") return null;
    return (
      "Deleting lasts from the RemoveTopicRecord's append to its commit inside the DeleteTopics decision; " +
      "a request after it finds the topic gone"
    );
  }
  return null;
}
