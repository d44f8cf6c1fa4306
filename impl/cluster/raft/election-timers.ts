/**
 * The node's timers: the election timer the machine resets and shortens, and
 * the periodic clock tick. They fire events into the node's mailbox; a timer
 * replaced before its event reached the machine is stale and is dropped, so a
 * follower that just heard from its leader never acts on an old timeout.
 */
import type { Context } from "../../../machines/raft-quorum.ts";
import type { RaftClock, ScheduledTask } from "./clock.ts";
import type { RaftSettings } from "./options.ts";

export interface TimerEvents {
  /** `isCurrent` says, when the event reaches the machine, whether this timer is still the armed one. */
  electionTimedOut(isCurrent: () => boolean): void;
  ticked(): void;
}

export class ElectionTimers {
  private election: ScheduledTask | null = null;
  private generation = 0;
  private tick: ScheduledTask | null = null;
  private stopped = false;

  constructor(
    private readonly clock: RaftClock,
    private readonly settings: RaftSettings,
    private readonly events: TimerEvents,
  ) {}

  /** A full election timeout with jitter; none at all for the only voter, which elects itself at once. */
  resetElection(context: Context): void {
    const onlyVoter = context.voters.length === 1 && context.voters[0] === context.nodeId;
    const jitterMs = Math.floor(this.clock.random() * this.settings.electionJitterMs);
    this.armElection(onlyVoter ? 0 : this.settings.electionTimeoutMs + jitterMs);
  }

  /** EndQuorumEpoch: elect soon, after a random backoff, so the voters do not all stand at once. */
  shortenElection(): void {
    this.armElection(Math.floor(this.clock.random() * this.settings.electionBackoffMaxMs));
  }

  /** A leader has no election timer. */
  cancelElection(): void {
    this.generation++;
    this.election?.cancel();
    this.election = null;
  }

  startTicking(): void {
    if (this.stopped || this.tick !== null) return;
    const next = () => {
      this.tick = this.clock.schedule(() => {
        if (this.stopped) return;
        next();
        this.events.ticked();
      }, this.settings.tickIntervalMs);
    };
    next();
  }

  stop(): void {
    this.stopped = true;
    this.cancelElection();
    this.tick?.cancel();
    this.tick = null;
  }

  private armElection(delayMs: number): void {
    if (this.stopped) return;
    this.cancelElection();
    const armed = this.generation;
    this.election = this.clock.schedule(() => {
      if (armed !== this.generation) return;
      this.election = null;
      this.events.electionTimedOut(() => armed === this.generation);
    }, delayMs);
  }
}
