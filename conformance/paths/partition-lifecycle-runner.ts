/**
 * Drives planned partition lifecycle paths against a real controller: each
 * machine event of a wire step is given its stimulus (partition-lifecycle-wire.ts),
 * the machine is stepped alongside, and the node must then show what the
 * machine's state and actions say: the answers to CreateTopics, AlterPartition,
 * IncrementalAlterConfigs, ElectLeaders and DeleteTopics, and in Metadata the live brokers and the partition's
 * leader, leader epoch, replicas, ISR, offline replicas and error code.
 */
import { expect } from "vitest";
import { initialTransition, type SnapshotFrom, transition } from "xstate";
import { configResourceTopic } from "../../impl/metadata/image.ts";
import { createTopicsApi } from "../../impl/protocol/apis/create-topics.ts";
import { deleteTopicsApi } from "../../impl/protocol/apis/delete-topics.ts";
import { describeConfigsApi } from "../../impl/protocol/apis/describe-configs.ts";
import {
  electionTypePreferred,
  electionTypeUnclean,
  electLeadersApi,
} from "../../impl/protocol/apis/elect-leaders.ts";
import {
  configOperation,
  incrementalAlterConfigsApi,
} from "../../impl/protocol/apis/incremental-alter-configs.ts";
import { ErrorCode } from "../../impl/protocol/error-codes.ts";
import { zeroUuid } from "../../impl/protocol/schema.ts";
import {
  type AlterPartitionAnswer,
  type ErrorAnswer,
  partitionLifecycleMachine as machine,
  type PartitionLifecycleEvent,
} from "../../machines/partition-lifecycle.ts";
import type { Coverage } from "../../machines/testing/coverage.ts";
import {
  brokers,
  lifecycleInput,
  rebaseAlterPartition,
} from "../../machines/testing/partition-lifecycle-paths.ts";
import type { FakeBroker } from "./fake-broker.ts";
import { requestOnce } from "./kafka-requests.ts";
import { settleTo, type TopicView, topicView } from "./node-views.ts";
import type { PlannedPath } from "./wire-steps.ts";

type Snapshot = SnapshotFrom<typeof machine>;
/** An effect the machine asked for, as `transition` returns it. */
type Effect = { type: string; params?: unknown };

const createTopicsVersion = 7;
const deleteTopicsVersion = 6;
const describeConfigsVersion = 4;
const electLeadersVersion = 2;
const incrementalAlterConfigsVersion = 1;
const requestTimeoutMs = 30_000;

/** What Metadata must show once the controller has done what the machine did. */
export function expectedTopicView(snapshot: Snapshot, fenced: ReadonlySet<number>): TopicView {
  const liveBrokers = brokers.filter((brokerId) => !fenced.has(brokerId));
  if (snapshot.value === "NonExistent" || snapshot.status === "done") {
    return { liveBrokers, topicErrorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, partition: null };
  }
  const { leader, leaderEpoch, replicas, isr } = snapshot.context;
  return {
    liveBrokers,
    topicErrorCode: ErrorCode.NONE,
    partition: {
      // Kafka's KRaftMetadataCache: a partition without a live leader is LEADER_NOT_AVAILABLE.
      errorCode: leader === -1 ? ErrorCode.LEADER_NOT_AVAILABLE : ErrorCode.NONE,
      leader,
      leaderEpoch,
      replicas,
      isr,
      // ... and a fenced replica is an offline one.
      offlineReplicas: replicas.filter((replica) => fenced.has(replica)),
    },
  };
}

function paramsOf<Params>(actions: Effect[], type: string): Params[] {
  return actions.filter((action) => action.type === type).map((action) => action.params as Params);
}

/**
 * Gives each fake a topic of its own that only it replicates, so that it
 * always leads a partition while live. A broker that leads nothing and asks
 * to shut down is fenced at once (broker.fenced); one that leads something
 * enters controlled shutdown (broker.shutdownStarted), which is the event
 * the path wants.
 */
export async function createAnchorTopics(port: number): Promise<void> {
  const response = await requestOnce(port, createTopicsApi, createTopicsVersion, {
    topics: brokers.map((brokerId) => ({
      name: `anchor-${brokerId}`,
      numPartitions: -1,
      replicationFactor: -1,
      assignments: [{ partitionIndex: 0, brokerIds: [brokerId] }],
      configs: [],
    })),
    timeoutMs: requestTimeoutMs,
    validateOnly: false,
  });
  const refused = response.topics.filter((topic) => topic.errorCode !== ErrorCode.NONE);
  if (refused.length > 0) throw new Error(`anchor topics refused: ${JSON.stringify(refused)}`);
}

export class LifecycleRunner {
  /** The fakes the controller has fenced (or will, once it notices): the wire's truth, not the machine's. */
  private readonly fenced = new Set<number>();
  /**
   * The fakes that went into controlled shutdown and have not registered
   * since: the controller unfences them only as a new incarnation.
   */
  private readonly inControlledShutdown = new Set<number>();

  constructor(
    private readonly port: number,
    private readonly fakes: ReadonlyMap<number, FakeBroker>,
    private readonly coverage: Coverage,
  ) {}

  /** Runs one path on a topic of its own, then deletes the topic if the path left it. */
  async run(path: PlannedPath<typeof machine>, topic: string): Promise<void> {
    let actual = initialTransition(machine, lifecycleInput)[0];
    for (const [index, { step, before }] of path.steps.entries()) {
      const start = actual;
      for (const generated of step.events) {
        const event = rebaseAlterPartition(generated, before, start);
        const [next, actions] = transition(machine, actual, event);
        const where = `${topic}, step ${index + 1}/${path.steps.length}: ${JSON.stringify(event)} from ${String(actual.value)} ${JSON.stringify(actual.context)}`;
        try {
          await this.drive(topic, event, next, actions);
        } catch (error) {
          throw new Error(`${where}\n${(error as Error).message}`);
        }
        this.coverage.record(actual, { steps: [{ event, state: next }] });
        actual = next;
      }
    }
    if (actual.value === "Online" || actual.value === "Offline") await this.deleteTopic(topic);
  }

  private async drive(
    topic: string,
    event: PartitionLifecycleEvent,
    after: Snapshot,
    actions: Effect[],
  ): Promise<void> {
    switch (event.type) {
      case "partition.created": {
        await this.setLiveness(topic, event.liveBrokers);
        const errorCode = await this.createTopic(topic, event);
        const refusals = paramsOf<ErrorAnswer>(actions, "refusePartitionCreation");
        expect(errorCode, "CreateTopics answer").toBe(refusals[0]?.errorCode ?? ErrorCode.NONE);
        if (refusals.length > 0) await this.settle(topic, after);
        return;
      }
      case "broker.fenced":
        this.fake(event.brokerId).stopFollowingMetadata();
        this.fenced.add(event.brokerId);
        await this.settle(topic, after);
        return;
      case "broker.shutdownStarted": {
        // The fake leads its anchor topic, so the controller moves leaderships rather than letting it go at once.
        const answer = await this.fake(event.brokerId).heartbeat({ wantFence: false, wantShutDown: true });
        expect(answer, "BrokerHeartbeat answer").toEqual({
          errorCode: ErrorCode.NONE,
          isFenced: false,
          shouldShutDown: false,
        });
        this.inControlledShutdown.add(event.brokerId);
        await this.settle(topic, after);
        return;
      }
      case "broker.unfenced":
        await this.bringBack(event.brokerId);
        await this.settle(topic, after);
        return;
      case "isr.changeRequested": {
        const answer = await this.fake(event.brokerId).alterPartition(topic, event);
        const [expected] = paramsOf<AlterPartitionAnswer>(actions, "answerAlterPartition");
        if (expected === undefined) throw new Error("the machine gave AlterPartition no answer");
        // Kafka sends the partition's state with NONE only.
        const { errorCode, leader, leaderEpoch, partitionEpoch, isr } = expected;
        expect(
          answer.errorCode === ErrorCode.NONE ? answer : answer.errorCode,
          "AlterPartition answer",
        ).toEqual(
          errorCode === ErrorCode.NONE
            ? { errorCode, leaderId: leader, leaderEpoch, partitionEpoch, isr }
            : errorCode,
        );
        await this.settle(topic, after);
        return;
      }
      case "topic.configChanged":
        expect(
          await this.setUncleanLeaderElection(topic, event.uncleanLeaderElectionEnabled),
          "IncrementalAlterConfigs answer",
        ).toBe(ErrorCode.NONE);
        await this.settle(topic, after);
        expect(await this.uncleanLeaderElectionOf(topic), "DescribeConfigs").toBe(
          String(after.context.uncleanLeaderElectionEnabled),
        );
        return;
      case "leader.preferredElectionRequested":
      case "leader.uncleanElectionRequested": {
        const errorCode = await this.electLeader(
          topic,
          event.type === "leader.preferredElectionRequested" ? electionTypePreferred : electionTypeUnclean,
        );
        const [expected] = paramsOf<ErrorAnswer>(actions, "answerLeaderElection");
        if (expected === undefined) throw new Error("the machine gave ElectLeaders no answer");
        expect(errorCode, "ElectLeaders answer").toBe(expected.errorCode);
        await this.settle(topic, after);
        return;
      }
      case "topic.deletionRequested":
        expect(await this.deleteTopic(topic), "DeleteTopics answer").toBe(ErrorCode.NONE);
        return;
      case "partition.creationCommitted":
      case "topic.deletionCompleted":
        // The request that began this step is answered only once its record has committed.
        await this.settle(topic, after);
        return;
    }
  }

  private fake(brokerId: number): FakeBroker {
    const fake = this.fakes.get(brokerId);
    if (fake === undefined) throw new Error(`no fake broker ${brokerId}`);
    return fake;
  }

  /** A fake fetching the metadata log again; one that went into controlled shutdown registers anew first. */
  private async bringBack(brokerId: number): Promise<void> {
    const fake = this.fake(brokerId);
    if (this.inControlledShutdown.delete(brokerId)) await fake.registerAgain();
    await fake.followMetadata();
    this.fenced.delete(brokerId);
  }

  /** Makes live exactly `liveBrokers` of the fakes, before a partition exists, and waits until Metadata shows it. */
  private async setLiveness(topic: string, liveBrokers: readonly number[]): Promise<void> {
    for (const brokerId of brokers) {
      const fake = this.fake(brokerId);
      if (liveBrokers.includes(brokerId)) {
        await this.bringBack(brokerId);
      } else {
        fake.stopFollowingMetadata();
        this.fenced.add(brokerId);
      }
    }
    const expected = {
      liveBrokers: [...liveBrokers].sort((a, b) => a - b),
      topicErrorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      partition: null,
    };
    await settleTo(`brokers ${liveBrokers.join(",")} live`, expected, () => this.view(topic));
  }

  /** Waits until Metadata shows what the machine says, with the fakes' liveness as the wire has it. */
  private async settle(topic: string, snapshot: Snapshot): Promise<void> {
    if (snapshot.status === "active" && snapshot.value !== "NonExistent") {
      // The runner's own check: the liveness it gave the fakes is the one the machine was told of.
      expect(
        [...this.fenced].sort((a, b) => a - b),
        "the fakes fenced on the wire",
      ).toEqual(snapshot.context.fencedBrokers);
      expect(
        [...this.inControlledShutdown].filter((brokerId) => !this.fenced.has(brokerId)).sort((a, b) => a - b),
        "the fakes in controlled shutdown on the wire",
      ).toEqual(snapshot.context.shuttingDownBrokers);
    }
    await settleTo(`Metadata of ${topic}`, expectedTopicView(snapshot, this.fenced), () => this.view(topic));
    for (const fake of this.fakes.values()) fake.assertHealthy();
  }

  /** Metadata of the topic, with only the fakes among the live brokers: node 0 is always there. */
  private async view(topic: string): Promise<TopicView> {
    const view = await topicView(this.port, topic);
    return { ...view, liveBrokers: view.liveBrokers.filter((brokerId) => brokers.includes(brokerId)) };
  }

  private async createTopic(
    topic: string,
    event: Extract<PartitionLifecycleEvent, { type: "partition.created" }>,
  ): Promise<number> {
    const response = await requestOnce(this.port, createTopicsApi, createTopicsVersion, {
      topics: [
        {
          name: topic,
          numPartitions: -1,
          replicationFactor: -1,
          assignments: [{ partitionIndex: 0, brokerIds: event.replicas }],
          configs: event.uncleanLeaderElectionEnabled
            ? [{ name: "unclean.leader.election.enable", value: "true" }]
            : [],
        },
      ],
      timeoutMs: requestTimeoutMs,
      validateOnly: false,
    });
    if (response.topics.length !== 1 || response.topics[0]!.name !== topic) {
      throw new Error(`CreateTopics for ${topic} answered ${response.topics.length} topics`);
    }
    return response.topics[0]!.errorCode;
  }

  /** IncrementalAlterConfigs SET of the topic's unclean.leader.election.enable: its one resource's error code. */
  private async setUncleanLeaderElection(topic: string, enabled: boolean): Promise<number> {
    const response = await requestOnce(
      this.port,
      incrementalAlterConfigsApi,
      incrementalAlterConfigsVersion,
      {
        resources: [
          {
            resourceType: configResourceTopic,
            resourceName: topic,
            configs: [
              {
                name: "unclean.leader.election.enable",
                configOperation: configOperation.set,
                value: String(enabled),
              },
            ],
          },
        ],
        validateOnly: false,
      },
    );
    if (response.responses.length !== 1 || response.responses[0]!.resourceName !== topic) {
      throw new Error(`IncrementalAlterConfigs for ${topic} answered ${response.responses.length} resources`);
    }
    return response.responses[0]!.errorCode;
  }

  /** The topic's unclean.leader.election.enable as DescribeConfigs shows it. */
  private async uncleanLeaderElectionOf(topic: string): Promise<string | null> {
    const response = await requestOnce(this.port, describeConfigsApi, describeConfigsVersion, {
      resources: [
        {
          resourceType: configResourceTopic,
          resourceName: topic,
          configurationKeys: ["unclean.leader.election.enable"],
        },
      ],
      includeSynonyms: false,
      includeDocumentation: false,
    });
    const result = response.results[0];
    if (response.results.length !== 1 || result === undefined || result.errorCode !== ErrorCode.NONE) {
      throw new Error(`DescribeConfigs for ${topic} answered ${JSON.stringify(response.results)}`);
    }
    const config = result.configs.find(({ name }) => name === "unclean.leader.election.enable");
    if (config === undefined)
      throw new Error(`DescribeConfigs for ${topic} has no unclean.leader.election.enable`);
    return config.value;
  }

  /** ElectLeaders of `electionType` for partition 0: that partition's error code. */
  private async electLeader(topic: string, electionType: number): Promise<number> {
    const response = await requestOnce(this.port, electLeadersApi, electLeadersVersion, {
      electionType,
      topicPartitions: [{ topic, partitions: [0] }],
      timeoutMs: requestTimeoutMs,
    });
    const results = response.replicaElectionResults;
    const partitions = results[0]?.partitionResult ?? [];
    if (response.errorCode !== ErrorCode.NONE) {
      throw new Error(`ElectLeaders for ${topic}-0 answered top-level error ${response.errorCode}`);
    }
    if (
      results.length !== 1 ||
      results[0]!.topic !== topic ||
      partitions.length !== 1 ||
      partitions[0]!.partitionId !== 0
    ) {
      throw new Error(`ElectLeaders for ${topic}-0 answered ${JSON.stringify(results)}`);
    }
    return partitions[0]!.errorCode;
  }

  private async deleteTopic(topic: string): Promise<number> {
    const response = await requestOnce(this.port, deleteTopicsApi, deleteTopicsVersion, {
      topics: [{ name: topic, topicId: zeroUuid }],
      timeoutMs: requestTimeoutMs,
    });
    if (response.responses.length !== 1 || response.responses[0]!.name !== topic) {
      throw new Error(`DeleteTopics for ${topic} answered ${response.responses.length} topics`);
    }
    return response.responses[0]!.errorCode;
  }
}
