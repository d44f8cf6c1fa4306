/**
 * The metadata quorum of a single node, seen over the wire: DescribeQuorum
 * names this node as leader and only voter of `__chronik_metadata`, with a
 * high watermark covering its records, and a restart starts a new epoch.
 */
import { afterAll, describe, expect, it } from "vitest";
import { describeQuorumApi } from "../../impl/protocol/apis/describe-quorum.ts";
import { ErrorCode } from "../../impl/protocol/error-codes.ts";
import { makeDataDir, removeDataDir, startBroker } from "../support/broker-process.ts";
import { decodeResponseFrame, RawConnection } from "../support/raw-connection.ts";

const dataDirs: string[] = [];
afterAll(async () => {
  for (const dataDir of dataDirs) await removeDataDir(dataDir);
});

async function describeQuorum(port: number, version: number, topicName = "__chronik_metadata") {
  const connection = await RawConnection.open(port);
  try {
    connection.writeRequest(describeQuorumApi, version, 7, {
      topics: [{ topicName, partitions: [{ partitionIndex: 0 }] }],
    });
    const { correlationId, response } = decodeResponseFrame(
      describeQuorumApi,
      version,
      await connection.nextFrame(),
    );
    expect(correlationId).toBe(7);
    return response;
  } finally {
    connection.destroy();
  }
}

describe("the metadata quorum over DescribeQuorum", () => {
  it("shows the node leading its one-voter quorum, in a new epoch after each restart", async () => {
    const dataDir = await makeDataDir();
    dataDirs.push(dataDir);
    const first = await startBroker({ dataDir });
    let firstEpoch: number;
    try {
      const response = await describeQuorum(first.port, 2);
      expect(response.errorCode).toBe(ErrorCode.NONE);
      const partition = response.topics[0]!.partitions[0]!;
      expect(partition).toMatchObject({ partitionIndex: 0, errorCode: ErrorCode.NONE, leaderId: 1 });
      // The leader-change record and the node's registration are committed.
      expect(partition.highWatermark).toBeGreaterThanOrEqual(2n);
      expect(partition.currentVoters.map((voter) => voter.replicaId)).toEqual([1]);
      expect(partition.currentVoters[0]!.logEndOffset).toBe(partition.highWatermark);
      expect(partition.observers).toEqual([]);
      expect(response.nodes).toEqual([
        { nodeId: 1, listeners: [{ name: "PLAINTEXT", host: "127.0.0.1", port: first.port }] },
      ]);
      firstEpoch = partition.leaderEpoch;
      expect(firstEpoch).toBeGreaterThanOrEqual(1);

      const v0 = await describeQuorum(first.port, 0);
      expect(v0.topics[0]!.partitions[0]!).toMatchObject({ leaderId: 1, leaderEpoch: firstEpoch });
      const other = await describeQuorum(first.port, 2, "orders");
      expect(other.topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    } finally {
      expect(await first.stop()).toBe(0);
    }

    const second = await startBroker({ dataDir, port: first.port });
    try {
      const partition = (await describeQuorum(second.port, 2)).topics[0]!.partitions[0]!;
      expect(partition.leaderEpoch).toBe(firstEpoch + 1);
      expect(partition.leaderId).toBe(1);
    } finally {
      expect(await second.stop()).toBe(0);
    }
  });
});
