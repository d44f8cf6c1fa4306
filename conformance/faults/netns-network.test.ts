/**
 * The fault campaign's network (support/netns-network.ts) on a real
 * three-node cluster, one node per network namespace: cutting the
 * controller's links to both other nodes makes them elect a new controller
 * (they say so over DescribeQuorum and Metadata), and once the links are
 * healed all three nodes name one controller, every voter has the whole
 * metadata log, and every node lists all three brokers again. Needs root;
 * without network namespaces it fails saying so rather than skipping.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalCluster } from "../support/cluster-process.ts";
import { eventually } from "../support/eventually.ts";
import { NetnsNetwork } from "../support/netns-network.ts";
import { metadataSeenBy, quorumSeenBy } from "./cluster-views.ts";

const nodeIds = [1, 2, 3];
const port = 9092;

describe("a three-node cluster in network namespaces", () => {
  let network: NetnsNetwork;
  let cluster: LocalCluster;

  beforeAll(async () => {
    network = await NetnsNetwork.create(nodeIds);
    cluster = await LocalCluster.start(nodeIds.length, ["--broker-session-timeout-ms", "3000"], {
      placement: {
        port,
        hostOf: (nodeId) => network.hostOf(nodeId),
        launcherOf: (nodeId) => network.launcherOf(nodeId),
      },
    });
  }, 60_000);

  afterAll(async () => {
    await cluster?.destroy();
    await network?.destroy();
  });

  it("elects a new controller when the controller is cut off from both others, and is whole once healed", async () => {
    const first = await eventually("every node naming one controller", async () => {
      const views = await Promise.all(cluster.nodes.map((node) => quorumSeenBy(node)));
      const leaders = new Set(views.map((view) => view.leaderId));
      return leaders.size === 1 && views[0]!.leaderId > 0 ? views[0]! : undefined;
    });
    const oldController = first.leaderId;
    const others = cluster.nodes.filter((node) => node.nodeId !== oldController);
    for (const other of others) await network.cut(oldController, other.nodeId);
    expect(network.cuts).toHaveLength(2);

    const elected = await eventually("a new controller on the majority side", async () => {
      const views = await Promise.all(others.map((node) => quorumSeenBy(node)));
      const leader = views[0]!.leaderId;
      const agreed = views.every((view) => view.leaderId === leader);
      return agreed && leader > 0 && leader !== oldController ? views[0]! : undefined;
    });
    expect(elected.epoch).toBeGreaterThan(first.epoch);
    const seenByOther = await metadataSeenBy(others[0]!, null);
    expect(seenByOther.controllerId).toBe(elected.leaderId);

    await network.healAll();
    expect(network.cuts).toEqual([]);
    await eventually("the whole cluster again", async () => {
      const quorums = await Promise.all(cluster.nodes.map((node) => quorumSeenBy(node)));
      const metadata = await Promise.all(cluster.nodes.map((node) => metadataSeenBy(node, null)));
      const leader = quorums[0]!.leaderId;
      const ends = [...quorums[0]!.voterEnds.values()];
      const whole =
        quorums.every((view) => view.leaderId === leader) &&
        metadata.every((view) => view.controllerId === leader && view.brokerIds.join() === nodeIds.join()) &&
        ends.length === nodeIds.length &&
        ends.every((end) => end === ends[0]);
      return whole ? true : undefined;
    });
  });
});
