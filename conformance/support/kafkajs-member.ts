/**
 * One KafkaJS consumer group member in a process of its own, so a test can
 * kill it with SIGKILL (a crash: no LeaveGroup, the coordinator finds out by
 * its session timeout) or stop it with SIGTERM (a clean leave). It consumes
 * with `consumer.run` and autocommit and writes one JSON line per event on
 * stdout: {"assigned": [[topic, partition], ...]} after each rebalance,
 * {"consumed": {topic, partition, offset, key, value}} per message,
 * {"crashed": error} when the consumer crashes (it exits if KafkaJS gives up).
 *
 * argv: brokers (comma separated), group id, topic, session timeout ms.
 */
import { Kafka, logLevel } from "kafkajs";

const [brokers, groupId, topic, sessionTimeoutText] = process.argv.slice(2);
if (!brokers || !groupId || !topic || !sessionTimeoutText) {
  process.stderr.write("usage: kafkajs-member BROKERS GROUP TOPIC SESSION_TIMEOUT_MS\n");
  process.exit(2);
}
const sessionTimeout = Number(sessionTimeoutText);

function emit(line: object): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

const kafka = new Kafka({
  clientId: `member-${process.pid}`,
  brokers: brokers.split(","),
  logLevel: logLevel.NOTHING,
  retry: { retries: 20, initialRetryTime: 100, maxRetryTime: 1000 },
});
const consumer = kafka.consumer({
  groupId,
  sessionTimeout,
  rebalanceTimeout: sessionTimeout * 2,
  heartbeatInterval: Math.max(100, Math.floor(sessionTimeout / 10)),
  maxWaitTimeInMs: 100,
  retry: { retries: 20, initialRetryTime: 100, maxRetryTime: 1000 },
});
consumer.on(consumer.events.GROUP_JOIN, (event) => {
  const assigned = Object.entries(event.payload.memberAssignment).flatMap(([name, partitions]) =>
    partitions.map((partition) => [name, partition]),
  );
  emit({ assigned });
});
consumer.on(consumer.events.CRASH, (event) => {
  emit({ crashed: String(event.payload.error) });
  // KafkaJS restarts the consumer after a retriable crash; after any other it
  // stays stopped, and a member that consumes nothing must not look alive.
  if (!event.payload.restart) process.exit(1);
});

let stopping = false;
process.on("SIGTERM", () => {
  if (stopping) return;
  stopping = true;
  consumer.disconnect().finally(() => process.exit(0));
});

await consumer.connect();
await consumer.subscribe({ topic, fromBeginning: true });
await consumer.run({
  autoCommit: true,
  autoCommitInterval: 100,
  eachMessage: async ({ topic: from, partition, message }) => {
    emit({
      consumed: {
        topic: from,
        partition,
        offset: message.offset,
        key: message.key?.toString() ?? null,
        value: message.value?.toString() ?? null,
      },
    });
  },
});
