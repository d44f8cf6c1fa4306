/**
 * A peer of the node under test, played by the test: a Kafka listener at the
 * address `--voters` gives that peer. It decodes every request the node sends
 * (with the project's own grammars), keeps the quorum's requests for the test
 * to answer when its path says, and answers the rest at once. A peer that
 * plays the controller also keeps the requests only a controller answers
 * (BrokerRegistration, AlterPartition). The node's peer client takes
 * responses strictly in request order on each connection, so an answer is
 * written only once every earlier request on its connection has been
 * answered: the test must settle those first (answerEarlier).
 */
import { createServer, type Server, type Socket } from "node:net";
import { type AnyApi, contextFor, decodeRequest, encodeResponse } from "../../impl/protocol/api.ts";
import { alterPartitionApi } from "../../impl/protocol/apis/alter-partition.ts";
import { apiVersionsApi } from "../../impl/protocol/apis/api-versions.ts";
import { beginQuorumEpochApi } from "../../impl/protocol/apis/begin-quorum-epoch.ts";
import { brokerRegistrationApi } from "../../impl/protocol/apis/broker-registration.ts";
import { endQuorumEpochApi } from "../../impl/protocol/apis/end-quorum-epoch.ts";
import { envelopeApi } from "../../impl/protocol/apis/envelope.ts";
import { fetchApi } from "../../impl/protocol/apis/fetch.ts";
import { voteApi } from "../../impl/protocol/apis/vote.ts";
import { ErrorCode } from "../../impl/protocol/error-codes.ts";
import { FrameSplitter, frameSizeBytes } from "../../impl/protocol/frames.ts";
import {
  readRequestHeaderStart,
  responseHeaderIsFlexible,
  skipHeaderTaggedFields,
  writeResponseHeader,
} from "../../impl/protocol/headers.ts";
import { Reader } from "../../impl/protocol/reader.ts";
import type { Infer } from "../../impl/protocol/schema.ts";
import { Writer } from "../../impl/protocol/writer.ts";

/** A request frame larger than this is not one the node sends to a quorum peer. */
const requestBytesMax = 16 * 1024 * 1024;

export type VoteRequestBody = Infer<typeof voteApi.request>;
export type LeaderEpochRequestBody = Infer<typeof beginQuorumEpochApi.request>;
export type EndQuorumEpochRequestBody = Infer<typeof endQuorumEpochApi.request>;
export type FetchRequestBody = Infer<typeof fetchApi.request>;
export type BrokerRegistrationRequestBody = Infer<typeof brokerRegistrationApi.request>;
export type AlterPartitionRequestBody = Infer<typeof alterPartitionApi.request>;

/** The requests the test answers itself, by kind; the last two only a peer playing the controller keeps. */
export type HeldRequest =
  | { kind: "vote"; body: VoteRequestBody }
  | { kind: "beginQuorumEpoch"; body: LeaderEpochRequestBody }
  | { kind: "endQuorumEpoch"; body: EndQuorumEpochRequestBody }
  | { kind: "fetch"; body: FetchRequestBody }
  | { kind: "brokerRegistration"; body: BrokerRegistrationRequestBody }
  | { kind: "alterPartition"; body: AlterPartitionRequestBody };

/**
 * A voter of the metadata quorum, or the controller: the quorum's leader,
 * which also decides registrations and ISR changes.
 */
export type PeerRole = "voter" | "controller";

/** One request the node sent to this peer, held until the test answers it. */
export type ReceivedRequest = HeldRequest & {
  /** Arrival order at this peer, from 0. */
  sequence: number;
  connection: number;
  apiVersion: number;
  answered: boolean;
};

interface Slot {
  request: ReceivedRequest | null;
  correlationId: number;
  api: AnyApi;
  response: Buffer | null;
}

interface PeerConnection {
  id: number;
  socket: Socket;
  frames: FrameSplitter;
  slots: Slot[];
}

type HeldApis = ReadonlyMap<number, { kind: HeldRequest["kind"]; api: AnyApi }>;
type ImmediateAnswers = ReadonlyMap<number, { api: AnyApi; response: unknown }>;

const quorumApis: HeldApis = new Map([
  [voteApi.key, { kind: "vote", api: voteApi }],
  [beginQuorumEpochApi.key, { kind: "beginQuorumEpoch", api: beginQuorumEpochApi }],
  [endQuorumEpochApi.key, { kind: "endQuorumEpoch", api: endQuorumEpochApi }],
  [fetchApi.key, { kind: "fetch", api: fetchApi }],
]);

const controllerApis: HeldApis = new Map([
  ...quorumApis,
  [brokerRegistrationApi.key, { kind: "brokerRegistration", api: brokerRegistrationApi }],
  [alterPartitionApi.key, { kind: "alterPartition", api: alterPartitionApi }],
]);

const apiVersionsAnswer = {
  api: apiVersionsApi,
  response: { errorCode: ErrorCode.NONE, apiKeys: [], throttleTimeMs: 0 },
};

/**
 * Answered at once: the node asks this peer to register it (or to take a
 * forwarded request) only because it thinks the peer leads; NOT_CONTROLLER
 * makes it retry until it leads itself, which changes none of the quorum's
 * state. ApiVersions is answered for a client that asks.
 */
const voterAnswers: ImmediateAnswers = new Map<number, { api: AnyApi; response: unknown }>([
  [
    brokerRegistrationApi.key,
    {
      api: brokerRegistrationApi,
      response: { throttleTimeMs: 0, errorCode: ErrorCode.NOT_CONTROLLER, brokerEpoch: -1n },
    },
  ],
  [
    envelopeApi.key,
    { api: envelopeApi, response: { responseData: null, errorCode: ErrorCode.NOT_CONTROLLER } },
  ],
  [apiVersionsApi.key, apiVersionsAnswer],
]);

/** The controller keeps registrations and ISR changes for the test; any other request is a finding. */
const controllerAnswers: ImmediateAnswers = new Map([[apiVersionsApi.key, apiVersionsAnswer]]);

export class PeerServer {
  /** Every held request, in arrival order. */
  readonly received: ReceivedRequest[] = [];
  /** Requests this peer could not read or does not know: each one is a finding. */
  readonly problems: string[] = [];
  private readonly connections = new Set<PeerConnection>();
  private nextConnectionId = 0;
  private listeners: Array<() => void> = [];

  private readonly heldApis: HeldApis;
  private readonly immediateAnswers: ImmediateAnswers;

  private constructor(
    readonly nodeId: number,
    private readonly server: Server,
    readonly port: number,
    role: PeerRole,
  ) {
    this.heldApis = role === "controller" ? controllerApis : quorumApis;
    this.immediateAnswers = role === "controller" ? controllerAnswers : voterAnswers;
  }

  static async listen(nodeId: number, role: PeerRole = "voter"): Promise<PeerServer> {
    let peer: PeerServer | null = null;
    const server = createServer((socket) => peer?.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("peer server has no port");
    peer = new PeerServer(nodeId, server, address.port, role);
    return peer;
  }

  /** Resolves whenever a request arrives (or a connection closes); for waiting loops. */
  changed(): Promise<void> {
    return new Promise((resolve) => this.listeners.push(resolve));
  }

  /** The unanswered requests on `request`'s connection that arrived before it. */
  unansweredBefore(request: ReceivedRequest): ReceivedRequest[] {
    const connection = this.connectionOf(request);
    if (connection === undefined) return [];
    const earlier: ReceivedRequest[] = [];
    for (const slot of connection.slots) {
      if (slot.request === request) break;
      if (slot.request !== null && slot.response === null) earlier.push(slot.request);
    }
    return earlier;
  }

  /** Whether the request's connection is still open: an answer on a closed one reaches no one. */
  isOpen(request: ReceivedRequest): boolean {
    return this.connectionOf(request) !== undefined;
  }

  /** Answers a held request; the bytes go out once every earlier request on its connection is answered. */
  answer(request: ReceivedRequest, response: unknown): void {
    if (request.answered) throw new Error(`peer ${this.nodeId}: request ${request.sequence} answered twice`);
    request.answered = true;
    const connection = this.connectionOf(request);
    if (connection === undefined) return;
    const slot = connection.slots.find((candidate) => candidate.request === request)!;
    slot.response = encodeAnswer(slot.api, request.apiVersion, slot.correlationId, response);
    this.writeReady(connection);
  }

  /**
   * Closes the connection `request` came on, unanswered, as when the answer
   * is lost on the way: the node sees the connection fail, not an answer.
   * The request counts as answered from then on: nothing can be sent for it.
   */
  dropConnectionOf(request: ReceivedRequest): void {
    if (request.answered) throw new Error(`peer ${this.nodeId}: request ${request.sequence} was answered`);
    request.answered = true;
    this.connectionOf(request)?.socket.destroy();
  }

  async close(): Promise<void> {
    for (const connection of this.connections) connection.socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private connectionOf(request: ReceivedRequest): PeerConnection | undefined {
    for (const connection of this.connections) if (connection.id === request.connection) return connection;
    return undefined;
  }

  private accept(socket: Socket): void {
    const connection: PeerConnection = {
      id: this.nextConnectionId++,
      socket,
      frames: new FrameSplitter(requestBytesMax),
      slots: [],
    };
    this.connections.add(connection);
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => {
      try {
        for (const frame of connection.frames.push(chunk)) this.receive(connection, frame);
      } catch (error) {
        this.problems.push(`peer ${this.nodeId}: unreadable request: ${(error as Error).message}`);
        socket.destroy();
      }
    });
    // A reset by the node is one way of closing; the close below handles it.
    socket.on("error", () => undefined);
    socket.on("close", () => {
      this.connections.delete(connection);
      this.notify();
    });
  }

  private receive(connection: PeerConnection, frame: Buffer): void {
    const reader = new Reader(frame);
    const header = readRequestHeaderStart(reader);
    const held = this.heldApis.get(header.apiKey);
    const immediate = this.immediateAnswers.get(header.apiKey);
    const api = held?.api ?? immediate?.api;
    if (api === undefined) {
      this.problems.push(`peer ${this.nodeId}: the node sent api ${header.apiKey} v${header.apiVersion}`);
      connection.socket.destroy();
      return;
    }
    const context = contextFor(api, header.apiVersion);
    if (context.flexible) skipHeaderTaggedFields(reader);
    const body = decodeRequest(api, header.apiVersion, reader);
    if (reader.remaining !== 0) {
      throw new Error(`${api.name} v${header.apiVersion} has ${reader.remaining} bytes after its body`);
    }
    const slot: Slot = { request: null, correlationId: header.correlationId, api, response: null };
    connection.slots.push(slot);
    if (held === undefined) {
      slot.response = encodeAnswer(api, header.apiVersion, header.correlationId, immediate!.response);
      this.writeReady(connection);
      return;
    }
    const request = {
      kind: held.kind,
      body,
      sequence: this.received.length,
      connection: connection.id,
      apiVersion: header.apiVersion,
      answered: false,
    } as ReceivedRequest;
    slot.request = request;
    this.received.push(request);
    this.notify();
  }

  private writeReady(connection: PeerConnection): void {
    while (connection.slots.length > 0 && connection.slots[0]!.response !== null) {
      connection.socket.write(connection.slots.shift()!.response!);
    }
  }

  private notify(): void {
    const listeners = this.listeners;
    this.listeners = [];
    for (const listener of listeners) listener();
  }
}

function encodeAnswer(api: AnyApi, version: number, correlationId: number, response: unknown): Buffer {
  const writer = new Writer();
  writeResponseHeader(
    writer,
    correlationId,
    responseHeaderIsFlexible(api.key, contextFor(api, version).flexible),
  );
  encodeResponse(api, version, response, writer);
  const body = writer.toBuffer();
  const prefix = Buffer.alloc(frameSizeBytes);
  prefix.writeInt32BE(body.length, 0);
  return Buffer.concat([prefix, body]);
}
