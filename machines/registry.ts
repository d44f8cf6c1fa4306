/**
 * Every machine of the control plane, with what the diagrams and the docs
 * pages (docs/machines/, `npm run docs:machines`) and `chronik machines
 * export` show for it. machines/purity.test.ts checks each one's
 * descriptions against this list.
 */
import type { AnyStateMachine } from "xstate";
import {
  eventDescriptions as consumerGroupEventDescriptions,
  consumerGroupMachine,
} from "./consumer-group.ts";
import { eventDescriptions as isrEventDescriptions, isrMachine } from "./isr.ts";
import {
  eventDescriptions as partitionLifecycleEventDescriptions,
  partitionLifecycleMachine,
} from "./partition-lifecycle.ts";
import { eventDescriptions as raftQuorumEventDescriptions, raftQuorumMachine } from "./raft-quorum.ts";

export const machineNames = ["raft-quorum", "partition-lifecycle", "isr", "consumer-group"] as const;
export type MachineName = (typeof machineNames)[number];

export interface RegisteredMachine {
  /** The file name in machines/ without `.ts`, and the name on the command line. */
  name: MachineName;
  title: string;
  /** A sentence or two: one instance per what, and what it decides. */
  summary: string;
  machine: AnyStateMachine;
  /** One line per event type the machine accepts. */
  eventDescriptions: Readonly<Record<string, string>>;
}

export const machineRegistry: readonly RegisteredMachine[] = [
  {
    name: "raft-quorum",
    title: "Raft quorum",
    summary:
      "One per node. Decides the node's role in the quorum of the metadata log (unattached, prospective " +
      "(pre-vote), candidate, leader, follower, resigned), whom it votes for in each epoch, when the leader " +
      "steps down, and one voter change at a time.",
    machine: raftQuorumMachine,
    eventDescriptions: raftQuorumEventDescriptions,
  },
  {
    name: "partition-lifecycle",
    title: "Partition lifecycle",
    summary:
      "One per partition, on the controller. Decides whether the partition is new, online, offline or being " +
      "deleted, which replica leads it (clean election from the ISR; unclean only when the topic allows it or ElectLeaders asks for it), " +
      "and its leader and partition epochs; every decision is a record appended to the metadata log.",
    machine: partitionLifecycleMachine,
    eventDescriptions: partitionLifecycleEventDescriptions,
  },
  {
    name: "isr",
    title: "In-sync replicas (ISR)",
    summary:
      "One per partition, on its leader. Tracks each follower's progress from its fetches, keeps at most one " +
      "AlterPartition in flight (a pending expansion or shrink), moves the high watermark over the maximal " +
      "ISR, and decides when an acks=all produce completes or is refused.",
    machine: isrMachine,
    eventDescriptions: isrEventDescriptions,
  },
  {
    name: "consumer-group",
    title: "Consumer group (classic protocol)",
    summary:
      "One per group, on its coordinator. Decides membership (member ids, static members, pending members), " +
      "when a rebalance starts and completes, the generation, protocol and leader, the answers to JoinGroup, " +
      "SyncGroup, Heartbeat and LeaveGroup, when the leader's assignment is written, and whether an offset " +
      "commit or the group's deletion is allowed.",
    machine: consumerGroupMachine,
    eventDescriptions: consumerGroupEventDescriptions,
  },
];

export function findMachine(name: string): RegisteredMachine | undefined {
  return machineRegistry.find((entry) => entry.name === name);
}
