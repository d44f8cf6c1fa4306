import { afterEach, describe, expect, it } from "vitest";
import type { offsetForLeaderEpochApi } from "../../protocol/apis/offset-for-leader-epoch.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";
import {
  hostedPartition,
  leaderAppends,
  NodeRoles,
  topicImage,
  topicName,
  withPartitions,
} from "../../replication/replication-test-support.ts";
import { closeTestSchedulers } from "../../storage/test-support.ts";
import { offsetForLeaderEpochHandler } from "./offset-for-leader-epoch.ts";
import { handlerContext, responseOf } from "./quorum-test-support.ts";

afterEach(closeTestSchedulers);

type Request = ReturnType<typeof offsetForLeaderEpochApi.request.read>;
type Asked = Request["topics"][number]["partitions"][number];

function request(partitions: Array<Partial<Asked>>, topic = topicName, replicaId = 2): Request {
  return {
    replicaId,
    topics: [
      {
        topic,
        partitions: partitions.map((asked) => ({
          partition: 0,
          currentLeaderEpoch: 3,
          leaderEpoch: 1,
          ...asked,
        })),
      },
    ],
  };
}

async function ask(roles: NodeRoles, asked: Request, version = 4) {
  const response = await responseOf(offsetForLeaderEpochHandler(roles)(asked, handlerContext(23, version)));
  return response.topics[0]!.partitions;
}

/** Node 1 leads "orders"-0 in epoch 3; its log holds epoch 0 at 0-2, epoch 1 at 3-8 and epoch 3 from 9 to 12. */
async function leaderWithHistory(directory: string) {
  const local = await hostedPartition(directory, topicImage());
  await leaderAppends(local, 0, ["a"]);
  await leaderAppends(local, 1, ["b", "c"]);
  await leaderAppends(local, 3, ["d"]);
  return { local, roles: new NodeRoles(1, [local]) };
}

describe("OffsetForLeaderEpoch", () => {
  it("answers where each epoch ends: the next epoch's start, the log end for the latest", () =>
    withPartitions(async (directory) => {
      const { roles } = await leaderWithHistory(directory);

      const answers = await ask(
        roles,
        request([{ leaderEpoch: 0 }, { leaderEpoch: 1 }, { leaderEpoch: 2 }, { leaderEpoch: 3 }]),
      );

      expect(answers).toEqual([
        { errorCode: ErrorCode.NONE, partition: 0, leaderEpoch: 0, endOffset: 3n },
        { errorCode: ErrorCode.NONE, partition: 0, leaderEpoch: 1, endOffset: 9n },
        // Epoch 2 never wrote here: the largest epoch below it, 1, and where it ends.
        { errorCode: ErrorCode.NONE, partition: 0, leaderEpoch: 1, endOffset: 9n },
        { errorCode: ErrorCode.NONE, partition: 0, leaderEpoch: 3, endOffset: 12n },
      ]);
    }));

  it("answers UNDEFINED (-1, -1) without an error for an epoch above every one known, or -1", () =>
    withPartitions(async (directory) => {
      const { roles } = await leaderWithHistory(directory);

      const answers = await ask(roles, request([{ leaderEpoch: 7 }, { leaderEpoch: -1 }]));

      expect(answers).toEqual([
        { errorCode: ErrorCode.NONE, partition: 0, leaderEpoch: -1, endOffset: -1n },
        { errorCode: ErrorCode.NONE, partition: 0, leaderEpoch: -1, endOffset: -1n },
      ]);
    }));

  it("fences a stale or unknown current leader epoch, and skips the fence for -1", () =>
    withPartitions(async (directory) => {
      const { roles } = await leaderWithHistory(directory);

      const answers = await ask(
        roles,
        request([{ currentLeaderEpoch: 2 }, { currentLeaderEpoch: 4 }, { currentLeaderEpoch: -1 }]),
      );

      expect(answers.map((answer) => answer.errorCode)).toEqual([
        ErrorCode.FENCED_LEADER_EPOCH,
        ErrorCode.UNKNOWN_LEADER_EPOCH,
        ErrorCode.NONE,
      ]);
      expect(answers[0]).toMatchObject({ leaderEpoch: -1, endOffset: -1n });
    }));

  it("is answered only by the leader, for consumers and followers alike", () =>
    withPartitions(async (directory) => {
      const local = await hostedPartition(directory, topicImage({ leader: 2 }));
      const roles = new NodeRoles(1, [local]);

      for (const replicaId of [-1, -2, 3]) {
        const [answer] = await ask(roles, request([{}], topicName, replicaId));
        expect(answer!.errorCode).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER);
      }
    }));

  it("tells a partition in the metadata but not hosted here from an unknown one", () =>
    withPartitions(async (directory) => {
      const local = await hostedPartition(directory, topicImage({ replicas: [2, 3], leader: 2 }));
      const roles = new NodeRoles(1, []);
      roles.image.topicsByName.set(topicName, local.topic);

      const [notHosted] = await ask(roles, request([{}]));
      const [unknownPartition] = await ask(roles, request([{ partition: 5 }]));
      const [unknownTopic] = await ask(roles, request([{}], "payments"));
      const [internal] = await ask(roles, request([{}], "__chronik_metadata"));

      expect(notHosted!.errorCode).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER);
      expect(unknownPartition).toEqual({
        errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        partition: 5,
        leaderEpoch: -1,
        endOffset: -1n,
      });
      expect(unknownTopic!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      expect(internal!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    }));
});
