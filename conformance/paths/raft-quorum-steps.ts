/**
 * A generated path of the Raft quorum machine as the test carries it out
 * against a real node: each step a stimulus (something the test sends, or a
 * timer of the node's it waits on), the machine events the node then takes,
 * and what it must show afterwards. raft-quorum-plan.ts makes them,
 * raft-quorum-driver.ts carries them out.
 */
import type { Event } from "../../machines/raft-quorum.ts";
import type { Snapshot } from "../../machines/testing/raft-quorum-models.ts";

/** A request the node sent to one of the test's peers, as the peer reads it. */
export type NodeRequest =
  | { kind: "vote"; epoch: number; preVote: boolean; lastEpoch: number; endOffset: number }
  | { kind: "beginQuorumEpoch"; epoch: number }
  | { kind: "endQuorumEpoch"; epoch: number }
  | { kind: "fetch"; epoch: number; fetchOffset: number; lastFetchedEpoch: number };

/** An entry a leader played by the test hands the node in a fetch answer. */
export type ReplicatedEntry =
  | { kind: "leaderChange"; epoch: number }
  | { kind: "voters"; epoch: number; voters: number[] };

export type Stimulus =
  | {
      kind: "vote";
      candidateId: number;
      epoch: number;
      lastEpoch: number;
      endOffset: number;
      preVote: boolean;
    }
  | { kind: "beginQuorumEpoch"; leaderId: number; epoch: number }
  | { kind: "endQuorumEpoch"; leaderId: number; epoch: number }
  | { kind: "fetch"; replicaId: number; epoch: number; fetchOffset: number; lastFetchedEpoch: number }
  /** `position`: the request's place among the node's unanswered requests at that peer. */
  | { kind: "answerVote"; peer: number; position: number; epoch: number; granted: boolean }
  | {
      kind: "answerFetch";
      peer: number;
      position: number;
      leaderId: number;
      epoch: number;
      highWatermark: number;
      entries: ReplicatedEntry[];
    }
  | { kind: "voterChange"; change: "add" | "remove"; nodeId: number }
  | { kind: "registerBroker"; brokerId: number }
  /** The controller writes a record of its own; the test only waits for it. */
  | { kind: "controllerRecord"; record: "registration" | "unfencing" }
  | { kind: "electionTimeout" }
  | { kind: "tick" }
  | { kind: "shutdown" };

/** What the node answers the test's request with. */
export type ExpectedAnswer =
  | { kind: "vote"; errorCode: number; granted: boolean; leaderId: number; epoch: number }
  | { kind: "leaderEpoch"; errorCode: number; leaderId: number; epoch: number }
  | {
      kind: "fetch";
      errorCode: number;
      leaderId: number;
      epoch: number;
      highWatermark: number;
      diverging: boolean;
      /** Entries from the fetch offset to the node's log end, in a NONE answer. */
      entries: number;
    };

/** The node's answer, now or later, to an AddRaftVoter or RemoveRaftVoter the test sent. */
export interface MembershipAnswer {
  change: "add" | "remove";
  nodeId: number;
  errorCode: number;
  /** Whether it answers the request of this very step (a refusal) or an earlier one that was waiting. */
  thisStep: boolean;
}

/** What the quorum-state file holds. */
export interface PersistedQuorumState {
  epoch: number;
  votedFor: number | null;
  leaderId: number | null;
}

export interface PlannedStep {
  /** The generated event this step realizes; null for what the node does by itself (controller records). */
  generated: Event | null;
  stimulus: Stimulus;
  /** Earlier requests at the stimulus' peer answered first (the node reads answers in request order). */
  flushes: Array<{ peer: number; position: number; request: NodeRequest }>;
  /** The machine events the node takes, in order, with the model's snapshot after each. */
  events: Array<{ event: Event; after: Snapshot; transitions: string[] }>;
  before: Snapshot;
  after: Snapshot;
  answer: ExpectedAnswer | null;
  /** Requests the node sends to the test's peers in this step, in order per peer. */
  sent: Array<{ peer: number; request: NodeRequest }>;
  membershipAnswers: MembershipAnswer[];
  /** The quorum-state file after the step; null before the node ever persisted one. */
  persisted: PersistedQuorumState | null;
  /** Replicas that fetched in the current leadership, for DescribeQuorum. */
  fetchedThisLeadership: number[];
  /** The node takes its next step by itself at once (a timer with no wait, a tick that resigns): nothing can be observed in between. */
  nodeMovesOn: boolean;
}

export interface Plan {
  model: string;
  /** The generated path (the model's prefix, then the path's own events), for the report. */
  generated: Event[];
  initial: Snapshot;
  steps: PlannedStep[];
  /** Coverage keys of the transitions the steps take. */
  transitions: Set<string>;
  /** Estimated run time on an idle machine, to prefer cheap paths. */
  costMs: number;
}

export interface PlanSettings {
  /** Node ids the test runs peer servers for: every initial voter but node 1. */
  peers: readonly number[];
  /** Clock ticks that age a contact (a full fetch timeout of waiting each) the node's election timer leaves room for. */
  ticksPerElectionTimeout: number;
}

/**
 * A path that cannot be driven faithfully over the wire. `atEvent` is where
 * in it planning stopped; `endsBefore` is set when it only ends too soon: the
 * node takes that event by itself at once after its last step.
 */
export class Unrealizable extends Error {
  override readonly name = "Unrealizable";
  atEvent = -1;

  constructor(
    message: string,
    readonly endsBefore: "election.timedOut" | "clock.ticked" | null = null,
  ) {
    super(message);
  }
}
