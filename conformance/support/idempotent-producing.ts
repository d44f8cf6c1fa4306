/**
 * What the idempotent producer tests share: KafkaJS's sockets routed through
 * the Produce-cutting proxies, numbered sends, and the values a replica
 * holds on disk as `chronik dump-log` reads them.
 */
import { connect } from "node:net";
import type { ISocketFactory, Producer } from "kafkajs";
import { dumpedRecords } from "./dump-log.ts";
import type { ProduceCuttingProxy } from "./produce-cutting-proxy.ts";

/** KafkaJS's sockets go to each broker's proxy instead of the broker. */
export function socketsThrough(proxies: ReadonlyMap<number, ProduceCuttingProxy>): ISocketFactory {
  return ({ host, port, onConnect }) => {
    const socket = connect({ host, port: proxies.get(port)?.port ?? port }, onConnect);
    socket.setKeepAlive(true, 60_000);
    return socket;
  };
}

/** The values of partition `partition` of `topicName`, as `chronik dump-log --json` reads them from disk. */
export async function valuesOnDisk(dataDir: string, topicName: string, partition = 0): Promise<string[]> {
  return (await dumpedRecords(dataDir, topicName, partition)).map((record) => String(record.value));
}

/** Sends `count` messages of `size` each, one send (one Produce) at a time, valued `m-<n>` from `from`. */
export async function sendNumbered(
  producer: Producer,
  topicName: string,
  from: number,
  count: number,
  size: number,
  beforeEach: (sendIndex: number) => void = () => undefined,
): Promise<string[]> {
  const sent: string[] = [];
  for (let start = from; start < from + count; start += size) {
    beforeEach((start - from) / size);
    const messages = Array.from({ length: size }, (_, index) => ({
      partition: 0,
      value: `m-${start + index}`,
    }));
    await producer.send({ topic: topicName, acks: -1, timeout: 30_000, messages });
    sent.push(...messages.map((message) => message.value));
  }
  return sent;
}
