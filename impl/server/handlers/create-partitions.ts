/**
 * CreatePartitions: grows a topic to the requested count, placing new
 * replicas round-robin unless the request assigns them; each new partition's
 * lifecycle machine writes its PartitionRecord (or refuses the assignment).
 */
import type { BrokerServices } from "../../broker/services.ts";
import type { MetadataRecord } from "../../metadata/records.ts";
import { planCreatePartitions } from "../../metadata/topic-commands.ts";
import { createPartitionsApi } from "../../protocol/apis/create-partitions.ts";
import { ErrorCode } from "../../protocol/error-codes.ts";
import type { InferInput } from "../../protocol/schema.ts";
import type { Handler } from "../dispatcher.ts";
import { atController } from "./at-controller.ts";

type Request = ReturnType<typeof createPartitionsApi.request.read>;
type Response = InferInput<typeof createPartitionsApi.response>;
type Result = Response["results"][number];

export function createPartitionsHandler(services: BrokerServices): Handler<Request, Response> {
  return atController(services, createPartitionsApi, createHere(services), refused, {
    timeoutMsOf: (request) => request.timeoutMs,
  });
}

function refused(request: Request, _context: unknown, errorCode: number, errorMessage: string): Response {
  return {
    throttleTimeMs: 0,
    results: request.topics.map(({ name }) => ({ name, errorCode, errorMessage })),
  };
}

function createHere(services: BrokerServices): Handler<Request, Response> {
  return async (request, context) => {
    context.releaseNext();
    const results = await services.lifecycles.decide((decision) => {
      const records: MetadataRecord[] = [];
      const seen = new Set<string>();
      const result = request.topics.map(({ name, count, assignments }): Result => {
        if (seen.has(name)) {
          return {
            name,
            errorCode: ErrorCode.INVALID_REQUEST,
            errorMessage: `Topic '${name}' appears more than once.`,
          };
        }
        seen.add(name);
        const plan = planCreatePartitions(decision.image, name, count, assignments);
        if ("errorCode" in plan) return { name, ...plan };
        const partitions = decision.createPartitions(plan, plan.assignments, plan.firstPartition, {
          validateOnly: request.validateOnly,
        });
        if ("errorCode" in partitions) return { name, ...partitions };
        records.push(...partitions.records);
        return { name, errorCode: ErrorCode.NONE, errorMessage: null };
      });
      return { records: request.validateOnly ? [] : records, result };
    });
    return { throttleTimeMs: 0, results };
  };
}
