/**
 * One-record produces to partition 0 of a topic, as the ISR suite sends
 * them: each is a ProduceInFlight whose answer (the partition's error code)
 * the suite checks only where the machine says it is given, and whose
 * `answeredWith` shows meanwhile whether it came early. A produce that waits
 * for the high watermark holds its connection (the node answers a
 * connection's requests in order), so a lone produce has a connection of its
 * own, and many waiting at once share a few, pipelined up to the node's
 * bound on requests in flight per connection.
 */
import { produceApi } from "../../impl/protocol/apis/produce.ts";
import { encodeRecordBatch } from "../../impl/protocol/records.ts";
import type { Infer } from "../../impl/protocol/schema.ts";
import { decodeResponseFrame, RawConnection } from "../support/raw-connection.ts";
import { RequestConnection } from "./kafka-requests.ts";

const produceVersion = 9;
/** Longer than any path: an acks=all produce is answered by the machine, never by its request timeout. */
const produceTimeoutMs = 120_000;

/** A produce sent and not yet known answered. */
export interface ProduceInFlight {
  answer: Promise<number>;
  answeredWith: number | null;
}

function produceRequest(topic: string, acks: number) {
  return {
    transactionalId: null,
    acks,
    timeoutMs: produceTimeoutMs,
    topicData: [
      {
        name: topic,
        partitionData: [{ index: 0, records: encodeRecordBatch([{ value: Buffer.from(`acks=${acks}`) }]) }],
      },
    ],
  };
}

/** The error code the answer gives partition 0 of `topic`; it must name that partition alone. */
function partitionErrorOf(topic: string, response: Infer<typeof produceApi.response>): number {
  const answers = response.responses.flatMap((answer) => answer.partitionResponses);
  if (answers.length !== 1 || answers[0]!.index !== 0) {
    throw new Error(`Produce to ${topic}-0 answered ${answers.length} partitions`);
  }
  return answers[0]!.errorCode;
}

function inFlight(answer: Promise<number>): ProduceInFlight {
  const produce: ProduceInFlight = { answer, answeredWith: null };
  produce.answer = answer.then((errorCode) => {
    produce.answeredWith = errorCode;
    return errorCode;
  });
  // Checked where the machine says it is answered; a failure before that must not go unhandled meanwhile.
  produce.answer.catch(() => undefined);
  return produce;
}

/** One produce on a connection of its own, closed once answered. */
export function produceAlone(port: number, topic: string, acks: number): ProduceInFlight {
  return inFlight(
    (async () => {
      const connection = await RequestConnection.open(port);
      try {
        return partitionErrorOf(
          topic,
          await connection.send(produceApi, produceVersion, produceRequest(topic, acks)),
        );
      } finally {
        connection.close();
      }
    })(),
  );
}

/**
 * `count` acks=all produces, `perConnection` to a connection, all written at
 * once: the node reads a connection's requests up to its bound on requests
 * in flight, so every one of them reaches it while none is answered.
 * Returns them in the order written on each connection, connection after
 * connection, and a close for the connections.
 */
export async function producePipelined(
  port: number,
  topic: string,
  count: number,
  perConnection: number,
): Promise<{ produces: ProduceInFlight[]; close(): void }> {
  const connections: RawConnection[] = [];
  const produces: ProduceInFlight[] = [];
  const request = produceRequest(topic, -1);
  for (let first = 0; first < count; first += perConnection) {
    const connection = await RawConnection.open(port);
    connections.push(connection);
    const size = Math.min(perConnection, count - first);
    for (let index = 0; index < size; index++)
      connection.writeRequest(produceApi, produceVersion, index, request);
    for (let index = 0; index < size; index++) {
      produces.push(
        inFlight(
          (async () => {
            // Frames come back in request order, so the index-th read is this request's answer.
            const frame = await connection.nextFrame();
            const answer = decodeResponseFrame(produceApi, produceVersion, frame);
            if (answer.correlationId !== index) {
              throw new Error(`Produce answered with correlation id ${answer.correlationId}, not ${index}`);
            }
            return partitionErrorOf(topic, answer.response);
          })(),
        ),
      );
    }
  }
  return {
    produces,
    close: () => {
      for (const connection of connections) connection.destroy();
    },
  };
}
