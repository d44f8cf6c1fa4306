/**
 * A real node for the path suites and the fake brokers that play its other
 * replicas: the node starts alone (a one-voter quorum) with its own data
 * directory on a free port, the fakes register and follow its metadata log
 * until Metadata lists them live.
 */
import { metadataApi } from "../../impl/protocol/apis/metadata.ts";
import { type BrokerProcess, makeDataDir, removeDataDir, startBroker } from "../support/broker-process.ts";
import { FakeBroker } from "./fake-broker.ts";
import { requestOnce } from "./kafka-requests.ts";
import { settleTo } from "./node-views.ts";

export interface NodeWithFakes {
  node: BrokerProcess;
  fakes: Map<number, FakeBroker>;
  stop(): Promise<void>;
}

export async function startNodeWithFakes(options: {
  args: string[];
  fakeBrokerIds: number[];
}): Promise<NodeWithFakes> {
  const dataDir = await makeDataDir();
  const node = await startBroker({ dataDir, args: options.args });
  const fakes = new Map<number, FakeBroker>();
  const stop = async () => {
    for (const fake of fakes.values()) fake.close();
    await node.stop();
    await removeDataDir(dataDir);
  };
  try {
    const metadata = await requestOnce(node.port, metadataApi, 12, {
      topics: [],
      allowAutoTopicCreation: false,
      includeTopicAuthorizedOperations: false,
    });
    if (metadata.clusterId === null) throw new Error("Metadata names no cluster id");
    const nodeIds = metadata.brokers.map((broker) => broker.nodeId);
    for (const brokerId of options.fakeBrokerIds) {
      const fake = await FakeBroker.register(node.port, brokerId, metadata.clusterId);
      fakes.set(brokerId, fake);
      await fake.followMetadata();
    }
    const expected = [...nodeIds, ...options.fakeBrokerIds].sort((a, b) => a - b);
    await settleTo("the fake brokers unfenced", expected, async () => {
      const view = await requestOnce(node.port, metadataApi, 12, {
        topics: [],
        allowAutoTopicCreation: false,
        includeTopicAuthorizedOperations: false,
      });
      return view.brokers.map((broker) => broker.nodeId).sort((a, b) => a - b);
    });
    return { node, fakes, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
