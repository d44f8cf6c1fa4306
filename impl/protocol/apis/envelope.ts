/**
 * Envelope (key 58), version 0; flexible.
 *
 * EnvelopeRequest =>
 *   request_data: BYTES                  (a whole request: header and body)
 *   request_principal: BYTES (nullable)  (the serialized principal; Chronik has no authentication: null)
 *   client_host_address: BYTES           (the client's IP address, 4 or 16 bytes)
 *
 * EnvelopeResponse =>
 *   response_data: BYTES (nullable)      (the whole inner response: header and body)
 *   error_code: INT16
 *
 * How a node that does not lead the metadata quorum hands a client's
 * metadata change (CreateTopics, DeleteTopics, CreatePartitions) to the one
 * that does, unchanged, and relays the answer: Kafka's request forwarding.
 */
import { defineApi } from "../api.ts";
import { bytes, field, int16, struct } from "../schema.ts";

export const envelopeApi = defineApi({
  key: 58,
  name: "Envelope",
  versionMin: 0,
  versionMax: 0,
  flexibleMin: 0,
  request: struct({
    requestData: field(bytes),
    requestPrincipal: field(bytes, { nullable: "0+" }),
    clientHostAddress: field(bytes),
  }),
  response: struct({
    responseData: field(bytes, { nullable: "0+" }),
    errorCode: field(int16),
  }),
});
