import { describe, expect, it } from "vitest";
import { ErrorCode } from "../protocol/error-codes.ts";
import { offsetWriteError } from "./offset-operations.ts";

describe("the answer to an offset commit whose write failed", () => {
  it("is the error Kafka's coordinator gives for the append's failure", () => {
    expect(offsetWriteError(ErrorCode.NONE)).toBe(ErrorCode.NONE);
    expect(offsetWriteError(ErrorCode.NOT_ENOUGH_REPLICAS)).toBe(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    expect(offsetWriteError(ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND)).toBe(
      ErrorCode.COORDINATOR_NOT_AVAILABLE,
    );
    expect(offsetWriteError(ErrorCode.REQUEST_TIMED_OUT)).toBe(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    expect(offsetWriteError(ErrorCode.NOT_LEADER_OR_FOLLOWER)).toBe(ErrorCode.NOT_COORDINATOR);
    expect(offsetWriteError(ErrorCode.KAFKA_STORAGE_ERROR)).toBe(ErrorCode.NOT_COORDINATOR);
    expect(offsetWriteError(ErrorCode.NOT_COORDINATOR)).toBe(ErrorCode.NOT_COORDINATOR);
  });

  it("blames a batch too large on the commit itself", () => {
    expect(offsetWriteError(ErrorCode.MESSAGE_TOO_LARGE)).toBe(ErrorCode.INVALID_COMMIT_OFFSET_SIZE);
    expect(offsetWriteError(ErrorCode.RECORD_LIST_TOO_LARGE)).toBe(ErrorCode.INVALID_COMMIT_OFFSET_SIZE);
  });
});
