/**
 * What the parts of a RaftNode (fetch handling, the follower's fetch loop,
 * the effect runner) share of it: the machine's view, the mailbox, the effect
 * queue and the node's I/O. RaftNode implements it.
 */
import type { Context, Event } from "../../../machines/raft-quorum.ts";
import type { Logger } from "../../log.ts";
import type { RaftClock } from "./clock.ts";
import type { EffectQueue } from "./effect-queue.ts";
import type { RaftEffect } from "./effects.ts";
import type { RaftSettings } from "./options.ts";
import type { RaftLog } from "./raft-log.ts";
import type { RaftTransport } from "./raft-transport.ts";

export type RaftRole = "unattached" | "prospective" | "candidate" | "leader" | "follower" | "resigned";

export interface RaftCore {
  readonly nodeId: number;
  readonly settings: RaftSettings;
  /** The voters before any voters entry. */
  readonly initialVoters: readonly number[];
  readonly log: RaftLog;
  readonly clock: RaftClock;
  readonly logger: Logger;
  readonly transport: RaftTransport;
  readonly effects: EffectQueue<RaftEffect>;
  readonly isStopped: boolean;
  role(): RaftRole;
  context(): Context;
  /** Steps the machine and queues the effects of the step; only inside an `exclusive` task. */
  step(event: Event): void;
  /** Runs `task` in the node's mailbox, after every task before it; rejects once the node stopped. */
  exclusive<T>(task: () => T | Promise<T>): Promise<T>;
  /** Queues effects after the ones queued so far (a reply, say). */
  enqueue(effects: readonly RaftEffect[]): void;
  /**
   * The leader another node's answer names, as an event for the machine; null when there is none, or
   * when it names the leader this node gave up on in that very epoch and does not come from that leader
   * (its followers may not have noticed yet; following it again would keep this node from standing).
   */
  leaderHint(from: number, leaderId: number | null, epoch: number): Event | null;
  /** A fatal failure: log it, stop the node, tell the owner. */
  fail(error: Error): void;
}

/**
 * Queues an answer to run once every effect queued before it has run: `build`
 * settles it (now, or later for a held fetch); it is rejected if the queue
 * stops before it runs.
 */
export function replyAfterEffects<T>(
  core: RaftCore,
  label: string,
  build: (answer: { resolve(value: T): void; reject(error: Error): void }) => void | Promise<void>,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    core.enqueue([{ type: "reply", label, run: () => build({ resolve, reject }), discard: reject }]);
  });
}
