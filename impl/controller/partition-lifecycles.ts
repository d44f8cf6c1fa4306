/**
 * The partition lifecycle machines on the controller: one snapshot per
 * partition, stepped by the controller's decisions. Every decision runs
 * through Controller.decide, so it is serialized with every other metadata
 * decision and answered only once its records are committed and applied.
 *
 * The snapshots follow the applied image. They are rebuilt from it whenever
 * this node's leadership epoch changes (another controller may have decided
 * anything since), and a decision's steps are kept once it is made and
 * confirmed against the image once it has committed: a created partition is
 * told partition.creationCommitted, a deleted topic's partitions
 * topic.deletionCompleted. A snapshot that no longer agrees with the image (a
 * decision that failed to commit) is made again from the image before it is
 * stepped, so the machines never decide from a state the log does not hold.
 */
import { type PartitionLifecycleEvent, restoredStateOf } from "../../machines/partition-lifecycle.ts";
import type { BrokerConfig } from "../broker/config.ts";
import { effectiveTopicConfig } from "../broker/topic-configs.ts";
import type { Logger } from "../log.ts";
import type { Controller } from "../metadata/controller.ts";
import type { MetadataImage } from "../metadata/image.ts";
import type { MetadataRecord } from "../metadata/records.ts";
import { partitionInstance } from "../trace/trace-lines.ts";
import { type TransitionTrace, tracedSnapshot } from "../trace/transition-trace.ts";
import { LifecycleDecision, type LifecycleStore } from "./lifecycle-decision.ts";
import {
  agreesWithImage,
  initialLifecycle,
  type LifecycleSnapshot,
  type LifecycleStep,
  lifecycleFromImage,
  stepLifecycle,
  withImageBookkeeping,
} from "./lifecycle-snapshots.ts";

export interface PartitionLifecyclesOptions {
  controller: Pick<Controller, "decide">;
  /** The metadata quorum's epoch as this node sees it now (the controller's epoch while it leads). */
  leadershipEpoch(): number;
  config: BrokerConfig;
  logger: Logger;
  /** The transition trace (`--trace`), which records every step of every partition's machine. */
  trace?: TransitionTrace;
}

export class PartitionLifecycles implements LifecycleStore {
  /** By topic id, then partition id. Holds only partitions of the image (and ones a decision just created). */
  private readonly snapshots = new Map<string, Map<number, LifecycleSnapshot>>();
  private builtForEpoch: number | null = null;

  constructor(private readonly options: PartitionLifecyclesOptions) {}

  /**
   * Runs `decide` as one controller decision with the machines at hand; it
   * returns the records to commit (its machines' records among them) and a
   * result, which resolves once they are committed and applied.
   */
  async decide<Result>(
    decide: (decision: LifecycleDecision) => { records: MetadataRecord[]; result: Result },
  ): Promise<Result> {
    const made: { decision?: LifecycleDecision } = {};
    try {
      const result = await this.options.controller.decide((image) => {
        this.refresh(image);
        const decision = new LifecycleDecision(image, this);
        const outcome = decide(decision);
        for (const staged of decision.staged.values()) {
          this.put(staged.topicId, staged.partitionId, staged.snapshot);
        }
        made.decision = decision;
        return outcome;
      });
      if (made.decision !== undefined) this.settle(made.decision);
      return result;
    } catch (error) {
      // Not committed (this node stopped leading, or the log refused it): what it staged is not true.
      if (made.decision !== undefined) this.forgetStaged(made.decision);
      throw error;
    }
  }

  /** The partition's machine state now, for diagnostics and tests; undefined when it is not tracked. */
  stateOf(topicId: string, partitionId: number): LifecycleSnapshot | undefined {
    return this.snapshots.get(topicId)?.get(partitionId);
  }

  step(snapshot: LifecycleSnapshot, event: PartitionLifecycleEvent): LifecycleStep {
    const step = stepLifecycle(snapshot, event);
    const trace = this.options.trace;
    if (trace !== undefined) {
      const { topicId, partitionId } = snapshot.context;
      trace.transition({
        machine: "partition-lifecycle",
        instance: partitionInstance(topicId, partitionId),
        event,
        before: tracedSnapshot(snapshot),
        after: tracedSnapshot(step.next)!,
      });
    }
    return step;
  }

  uncleanLeaderElectionEnabled(configs: ReadonlyMap<string, string>): boolean {
    return effectiveTopicConfig(configs, this.options.config, "unclean.leader.election.enable") === "true";
  }

  current(image: MetadataImage, topicId: string, partitionId: number): LifecycleSnapshot {
    const topic = image.topicsById.get(topicId);
    const partition = topic?.partitions.get(partitionId);
    const known = this.snapshots.get(topicId)?.get(partitionId);
    if (topic === undefined || partition === undefined) {
      if (known !== undefined) this.forget(topicId, partitionId, known);
      return initialLifecycle(topicId, partitionId);
    }
    let snapshot = known === undefined ? null : this.confirmed(known, partition);
    if (snapshot === null) {
      if (known !== undefined) {
        this.options.logger.warn(
          { topic: topic.name, partition: partitionId, machine: known.context, image: partition },
          "partition lifecycle out of step with the applied image; made again from it",
        );
      }
      snapshot = lifecycleFromImage(
        image,
        topic,
        partition,
        this.uncleanLeaderElectionEnabled(topic.configs),
      );
    }
    snapshot = withImageBookkeeping(snapshot, image, this.uncleanLeaderElectionEnabled(topic.configs));
    this.put(topicId, partitionId, snapshot);
    return snapshot;
  }

  /**
   * The snapshot once what its decision appended is in the image: a creation
   * that committed is told so; anything else must match the image as it is.
   * Null when it does not (its decision never committed).
   */
  private confirmed(
    known: LifecycleSnapshot,
    partition: Parameters<typeof agreesWithImage>[1],
  ): LifecycleSnapshot | null {
    if (!agreesWithImage(known.context, partition)) return null;
    if (known.value === "Online" || known.value === "Offline") return known;
    if (known.value !== "New") return null;
    const { next } = this.step(known, { type: "partition.creationCommitted" });
    if (next.value !== restoredStateOf(next.context)) {
      throw new Error(`partition ${partition.partitionId} committed into ${String(next.value)}`);
    }
    return next;
  }

  /** A partition gone from the image: its deletion completed, or its creation never committed. */
  private forget(topicId: string, partitionId: number, known: LifecycleSnapshot): void {
    if (known.value === "Deleting") {
      const { next } = this.step(known, { type: "topic.deletionCompleted" });
      if (next.status !== "done") throw new Error(`topic ${topicId} deleted into ${String(next.value)}`);
    }
    const partitions = this.snapshots.get(topicId);
    partitions?.delete(partitionId);
    if (partitions?.size === 0) this.snapshots.delete(topicId);
  }

  /** At the start of every decision: all new after a leadership change, else drop topics the image lost. */
  private refresh(image: MetadataImage): void {
    const epoch = this.options.leadershipEpoch();
    if (epoch !== this.builtForEpoch) {
      this.snapshots.clear();
      let partitions = 0;
      for (const topic of image.topicsById.values()) {
        const unclean = this.uncleanLeaderElectionEnabled(topic.configs);
        for (const partition of topic.partitions.values()) {
          this.put(
            topic.topicId,
            partition.partitionId,
            lifecycleFromImage(image, topic, partition, unclean),
          );
          partitions += 1;
        }
      }
      this.builtForEpoch = epoch;
      this.options.logger.info({ epoch, partitions }, "partition lifecycles rebuilt from the applied image");
      return;
    }
    for (const [topicId, partitions] of this.snapshots) {
      if (image.topicsById.has(topicId)) continue;
      for (const [partitionId, known] of partitions) this.forget(topicId, partitionId, known);
    }
  }

  /** After the commit: confirm what the decision staged (unless a later decision already did), then log it. */
  private settle(decision: LifecycleDecision): void {
    for (const { topicId, partitionId, snapshot } of decision.staged.values()) {
      if (this.snapshots.get(topicId)?.get(partitionId) === snapshot) {
        this.current(decision.image, topicId, partitionId);
      }
    }
    for (const change of decision.leaderChanges) {
      this.options.logger.info(change, "partition leader changed");
    }
  }

  private forgetStaged(decision: LifecycleDecision): void {
    for (const { topicId, partitionId, snapshot } of decision.staged.values()) {
      const partitions = this.snapshots.get(topicId);
      if (partitions?.get(partitionId) === snapshot) partitions.delete(partitionId);
    }
  }

  private put(topicId: string, partitionId: number, snapshot: LifecycleSnapshot): void {
    let partitions = this.snapshots.get(topicId);
    if (partitions === undefined) {
      partitions = new Map();
      this.snapshots.set(topicId, partitions);
    }
    partitions.set(partitionId, snapshot);
  }
}
