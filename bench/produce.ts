/**
 * Produce cases: one topic with one partition per case, a request body built
 * once and sent over and over by a pipelining client that keeps a fixed
 * number of requests in flight per connection. Throughput counts the records
 * acknowledged inside the measured window; latency is each request's time
 * from send to response, for requests sent inside that window. Any response
 * carrying a non-zero error code fails the case.
 */
import { randomBytes } from "node:crypto";
import { contextFor, decodeResponse, encodeRequest } from "../impl/protocol/api.ts";
import { createTopicsApi } from "../impl/protocol/apis/create-topics.ts";
import { produceApi } from "../impl/protocol/apis/produce.ts";
import { errorName } from "../impl/protocol/error-codes.ts";
import type { Reader } from "../impl/protocol/reader.ts";
import { encodeRecordBatch } from "../impl/protocol/records.ts";
import { PipelinedConnection } from "./kafka-client.ts";
import { type LatencySummary, latencyHistogram, recordMilliseconds, summarise } from "./latency.ts";
import { type CpuSample, cpuPercent, sampleCpu } from "./process-cpu.ts";
import type { Progress } from "./progress.ts";

export const produceVersion = 9;
const createTopicsVersion = 7;
const brokerTimeoutMs = 30_000;
/** How long in-flight requests may take to finish after the window closes before the case is failed. */
const drainTimeoutMs = 30_000;

export interface ProduceCase {
  messageBytes: number;
  acks: 1 | -1;
  recordsPerRequest: number;
  connections: number;
  inFlightPerConnection: number;
}

export interface BrokerTarget {
  host: string;
  port: number;
  pid: number;
  /** On a cluster: the processes of the partition's followers, whose CPU is reported beside the leader's. */
  followerPids?: readonly number[];
}

/** What CreateTopics asks for: a count and a factor, or (with both at -1) explicit replica lists. */
export interface TopicShape {
  numPartitions: number;
  replicationFactor: number;
  assignments: Array<{ partitionIndex: number; brokerIds: number[] }>;
}

const singleReplica: TopicShape = { numPartitions: 1, replicationFactor: 1, assignments: [] };

export interface ProduceResult {
  testCase: ProduceCase;
  requestBytes: number;
  measuredMs: number;
  messagesPerSecond: number;
  megabytesPerSecond: number;
  latency: LatencySummary;
  brokerCpuPercent: number;
  /** The followers together, or null with one node. */
  followersCpuPercent: number | null;
  benchCpuPercent: number;
  /** Every other process on the machine, plus kernel work not charged to either of the two. */
  otherCpuPercent: number;
  /** Set when the case failed; then the figures above mean nothing. */
  failure: string | null;
}

export function describeCase(testCase: ProduceCase): string {
  const size =
    testCase.messageBytes >= 1024 ? `${testCase.messageBytes / 1024} KiB` : `${testCase.messageBytes} B`;
  return `${size}, acks=${testCase.acks === -1 ? "all" : testCase.acks}, ${testCase.recordsPerRequest} rec/req, ${testCase.connections}×${testCase.inFlightPerConnection} in flight`;
}

export function createTopicsBody(name: string, shape: TopicShape, validateOnly = false): Buffer {
  return encodeRequest(createTopicsApi, createTopicsVersion, {
    topics: [{ name, ...shape, configs: [] }],
    timeoutMs: brokerTimeoutMs,
    validateOnly,
  }).toBuffer();
}

/** The first error a CreateTopics response reports, or null when every topic was created. */
export function createTopicsError(reader: Reader): string | null {
  const response = createTopicsApi.response.read(
    reader,
    contextFor(createTopicsApi, createTopicsVersion),
    false,
  );
  for (const topic of response.topics) {
    if (topic.errorCode !== 0) {
      return `CreateTopics ${topic.name}: ${errorName(topic.errorCode)} ${topic.errorMessage ?? ""}`.trim();
    }
  }
  return null;
}

export async function sendCreateTopics(connection: PipelinedConnection, body: Buffer): Promise<Reader> {
  return connection.send(createTopicsApi, createTopicsVersion, body);
}

export async function createTopic(
  target: Pick<BrokerTarget, "host" | "port">,
  name: string,
  shape: TopicShape = singleReplica,
): Promise<void> {
  const connection = await PipelinedConnection.connect(target.host, target.port);
  try {
    const error = createTopicsError(await sendCreateTopics(connection, createTopicsBody(name, shape)));
    if (error !== null) throw new Error(error);
  } finally {
    connection.close();
  }
}

export function produceBody(
  topic: string,
  testCase: Pick<ProduceCase, "messageBytes" | "acks" | "recordsPerRequest">,
): Buffer {
  // Random values, so that nothing on the way (a compressing filesystem or disk) makes them cheaper than real data.
  const records = Array.from({ length: testCase.recordsPerRequest }, () => ({
    value: randomBytes(testCase.messageBytes),
  }));
  return encodeRequest(produceApi, produceVersion, {
    transactionalId: null,
    acks: testCase.acks,
    timeoutMs: brokerTimeoutMs,
    topicData: [{ name: topic, partitionData: [{ index: 0, records: encodeRecordBatch(records) }] }],
  }).toBuffer();
}

/** The first error a produce response reports, or null when every partition succeeded. */
export function produceError(reader: Reader): string | null {
  const response = decodeResponse(produceApi, produceVersion, reader.buffer.subarray(reader.offset));
  for (const topic of response.responses) {
    for (const partition of topic.partitionResponses) {
      if (partition.errorCode !== 0) {
        return `${topic.name}-${partition.index}: ${errorName(partition.errorCode)} ${partition.errorMessage ?? ""}`.trim();
      }
    }
  }
  return null;
}

export async function runProduceCase(
  target: BrokerTarget,
  topic: string,
  testCase: ProduceCase,
  timing: { warmupMs: number; measureMs: number },
  progress: Progress,
): Promise<ProduceResult> {
  const body = produceBody(topic, testCase);
  const histogram = latencyHistogram();
  const connections = await Promise.all(
    Array.from({ length: testCase.connections }, () => PipelinedConnection.connect(target.host, target.port)),
  );
  const startMs = performance.now();
  const measureStartMs = startMs + timing.warmupMs;
  const measureEndMs = measureStartMs + timing.measureMs;
  let acknowledgedMessages = 0;
  let failure: string | null = null;
  const followerPids = target.followerPids ?? [];
  let cpuStart = sampleCpu(target.pid, followerPids);
  let cpuEnd: CpuSample | null = null;
  // Timers rather than the response path take the samples, so that they fall on the window's edges.
  const cpuStartTimer = setTimeout(() => {
    cpuStart = sampleCpu(target.pid, followerPids);
  }, timing.warmupMs);
  const cpuEndTimer = setTimeout(() => {
    cpuEnd = sampleCpu(target.pid, followerPids);
  }, timing.warmupMs + timing.measureMs);

  let finish!: () => void;
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const checkFinished = () => {
    const inFlight = connections.reduce((sum, connection) => sum + connection.inFlight, 0);
    if (inFlight === 0 && (failure !== null || performance.now() >= measureEndMs)) finish();
  };

  const pump = (connection: PipelinedConnection) => {
    while (
      failure === null &&
      connection.inFlight < testCase.inFlightPerConnection &&
      performance.now() < measureEndMs
    ) {
      const sentMs = performance.now();
      connection.send(produceApi, produceVersion, body).then(
        (reader) => {
          const answeredMs = performance.now();
          const error = produceError(reader);
          if (error !== null) failure ??= error;
          else {
            if (sentMs >= measureStartMs) recordMilliseconds(histogram, answeredMs - sentMs);
            if (answeredMs >= measureStartMs && answeredMs <= measureEndMs) {
              acknowledgedMessages += testCase.recordsPerRequest;
            }
          }
          pump(connection);
          checkFinished();
        },
        (error: Error) => {
          failure ??= error.message;
          checkFinished();
        },
      );
    }
  };

  const progressTimer = setInterval(() => {
    const now = performance.now();
    const phase = now < measureStartMs ? "warm-up" : now < measureEndMs ? "measuring" : "draining";
    const elapsedSeconds = Math.max(0, (now - measureStartMs) / 1000);
    const rate = elapsedSeconds > 0 ? Math.round(acknowledgedMessages / elapsedSeconds) : 0;
    progress.update(
      `produce ${describeCase(testCase)}: ${phase} ${elapsedSeconds.toFixed(1)} s, ${rate} msg/s`,
    );
  }, 250);
  const drainTimer = setTimeout(
    () => {
      failure ??= `requests still in flight ${drainTimeoutMs / 1000} s after the window closed`;
      finish();
    },
    timing.warmupMs + timing.measureMs + drainTimeoutMs,
  );

  for (const connection of connections) pump(connection);
  await finished;
  for (const timer of [cpuStartTimer, cpuEndTimer, drainTimer]) clearTimeout(timer);
  clearInterval(progressTimer);
  for (const connection of connections) connection.close();

  const measuredSeconds = timing.measureMs / 1000;
  const cpu = cpuPercent(cpuStart, cpuEnd ?? sampleCpu(target.pid, followerPids));
  return {
    testCase,
    requestBytes: body.length,
    measuredMs: timing.measureMs,
    messagesPerSecond: acknowledgedMessages / measuredSeconds,
    megabytesPerSecond: (acknowledgedMessages * testCase.messageBytes) / measuredSeconds / 1e6,
    latency: summarise(histogram),
    brokerCpuPercent: cpu.broker,
    followersCpuPercent: target.followerPids === undefined ? null : cpu.followers,
    benchCpuPercent: cpu.bench,
    otherCpuPercent: cpu.other,
    failure,
  };
}
