/**
 * Envelope (58): the controller's side of request forwarding. Another node
 * hands over a client's metadata change (or quorum request) as it received it; the controller
 * runs it through its own handlers (marked forwarded, so it is decided here
 * and never sent on) and returns the whole response for the node to relay.
 * A node that is not the controller answers NOT_CONTROLLER and the sender
 * looks for the new one.
 */
import type { BrokerServices } from "../../broker/services.ts";
import { addRaftVoterApi } from "../../protocol/apis/add-raft-voter.ts";
import { createPartitionsApi } from "../../protocol/apis/create-partitions.ts";
import { createTopicsApi } from "../../protocol/apis/create-topics.ts";
import { deleteTopicsApi } from "../../protocol/apis/delete-topics.ts";
import { describeQuorumApi } from "../../protocol/apis/describe-quorum.ts";
import { electLeadersApi } from "../../protocol/apis/elect-leaders.ts";
import type { envelopeApi } from "../../protocol/apis/envelope.ts";
import { incrementalAlterConfigsApi } from "../../protocol/apis/incremental-alter-configs.ts";
import { removeRaftVoterApi } from "../../protocol/apis/remove-raft-voter.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";
import { DecodeError } from "../../protocol/reader.ts";
import type { InferInput } from "../../protocol/schema.ts";
import type { Handler } from "../dispatcher.ts";

type Request = ReturnType<typeof envelopeApi.request.read>;
type Response = InferInput<typeof envelopeApi.response>;

/** Only what the controller alone answers travels in envelopes; anything else is served where it arrives. */
const forwardableApiKeys: ReadonlySet<number> = new Set([
  createTopicsApi.key,
  deleteTopicsApi.key,
  createPartitionsApi.key,
  electLeadersApi.key,
  incrementalAlterConfigsApi.key,
  describeQuorumApi.key,
  addRaftVoterApi.key,
  removeRaftVoterApi.key,
]);

/** A request header starts with api key (INT16), version (INT16) and correlation id (INT32). */
const headerStartBytes = 8;

export function envelopeHandler(services: BrokerServices): Handler<Request, Response> {
  return async (request, context) => {
    context.releaseNext();
    if (!services.controllerLink.isLocal()) {
      return { responseData: null, errorCode: ErrorCode.NOT_CONTROLLER };
    }
    const inner = request.requestData;
    if (inner.length < headerStartBytes || !forwardableApiKeys.has(inner.readInt16BE(0))) {
      services.logger.warn(
        { peer: context.peer, bytes: inner.length, apiKey: inner.length >= 2 ? inner.readInt16BE(0) : null },
        "refused an envelope that does not carry a metadata change",
      );
      return { responseData: null, errorCode: ErrorCode.INVALID_REQUEST };
    }
    try {
      const chunks = await services.dispatchForwarded(inner, context.peer);
      if (chunks === null) return { responseData: null, errorCode: ErrorCode.INVALID_REQUEST };
      return { responseData: Buffer.concat(chunks), errorCode: ErrorCode.NONE };
    } catch (error) {
      if (!(error instanceof DecodeError)) throw error;
      services.logger.warn({ peer: context.peer, err: error }, "refused a malformed forwarded request");
      return { responseData: null, errorCode: ErrorCode.INVALID_REQUEST };
    }
  };
}
