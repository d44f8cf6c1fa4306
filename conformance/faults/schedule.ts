/**
 * The fault schedule: which fault, on which nodes, when and for how long,
 * all drawn from one seed, so `--seed N` replays the same schedule. Faults
 * come one at a time and each is healed before a gap and the next one, so
 * the cluster keeps a majority most of the time: a paused or isolated node
 * is one node of three, a cut separates two nodes that both still reach the
 * third. The campaign may start a fault later than planned (it waits for the
 * cluster to be whole again first), never earlier. An impatient fault (one in
 * `impatientOneIn`) does not wait: it may hit a node while another is still
 * catching up, which is how a partition's ISR falls below
 * min.insync.replicas or loses every member for a while.
 */
import { SeededRandom } from "./seeded-random.ts";

export const faultKinds = ["kill", "stop", "pause", "cut", "isolate", "corrupt"] as const;
export type FaultKind = (typeof faultKinds)[number];

/** How long each kind of fault lasts, in ms: pauses straddle the brokers' session timeout. */
const holdRangeMs: Record<FaultKind, [number, number]> = {
  kill: [500, 4_000],
  stop: [500, 4_000],
  pause: [300, 7_000],
  cut: [1_000, 7_000],
  isolate: [1_000, 7_000],
  corrupt: [500, 3_000],
};
/** Quiet time between one fault's heal and the next fault. */
const gapRangeMs: [number, number] = [1_000, 3_000];
/** Clients get going before the first fault. */
const warmupMs = 4_000;
const garbageBytesRange: [number, number] = [1, 4_096];
/** A torn write keeps this many thousandths of the last batch. */
const tornKeptRange: [number, number] = [1, 999];
const impatientOneIn = 5;

export interface CorruptionPlan {
  /** Which logs of the node are damaged. */
  logs: "metadata" | "data" | "both";
  /** The workload topic's partition whose log is damaged (when `logs` names data). */
  partition: number;
  /** garbage: bytes appended after the last batch; torn: the last batch cut short. */
  damage: "garbage" | "torn";
  /** garbage: how many bytes; torn: how many thousandths of the last batch are kept. */
  amount: number;
  /** Seed of the garbage bytes. */
  bytesSeed: number;
}

export interface PlannedFault {
  /** 1-based, in schedule order. */
  index: number;
  /** When it is due, in ms from the campaign's start. */
  atMs: number;
  kind: FaultKind;
  /** The node hit; for a cut, both ends of the link. */
  nodes: number[];
  holdMs: number;
  /** Starts when due, whole cluster or not. */
  impatient: boolean;
  /** Only for `corrupt`. */
  corruption: CorruptionPlan | null;
}

export function planSchedule(options: {
  seed: number;
  durationMs: number;
  nodeIds: readonly number[];
  partitions: number;
}): PlannedFault[] {
  const random = new SeededRandom(options.seed);
  const faults: PlannedFault[] = [];
  let atMs = warmupMs + random.integer(0, gapRangeMs[1]);
  for (;;) {
    const kind = random.pick(faultKinds);
    const holdMs = random.integer(...holdRangeMs[kind]);
    if (atMs + holdMs > options.durationMs) break;
    const nodes =
      kind === "cut" ? random.pickDistinct(options.nodeIds, 2).sort() : [random.pick(options.nodeIds)];
    // Damage on disk waits for a whole cluster: two replicas losing the same synced tail is not a fault one at a time.
    const impatient = random.integer(1, impatientOneIn) === 1 && kind !== "corrupt";
    const corruption = kind === "corrupt" ? planCorruption(random, options.partitions) : null;
    faults.push({ index: faults.length + 1, atMs, kind, nodes, holdMs, impatient, corruption });
    atMs += holdMs + random.integer(...gapRangeMs);
  }
  return faults;
}

function planCorruption(random: SeededRandom, partitions: number): CorruptionPlan {
  const damage = random.pick(["garbage", "torn"] as const);
  return {
    logs: random.pick(["metadata", "data", "both"] as const),
    partition: random.integer(0, partitions - 1),
    damage,
    amount: damage === "garbage" ? random.integer(...garbageBytesRange) : random.integer(...tornKeptRange),
    bytesSeed: random.nextUint32(),
  };
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

export function describeCorruption(corruption: CorruptionPlan, topic: string): string {
  const damage =
    corruption.damage === "garbage"
      ? `${corruption.amount} garbage bytes after`
      : `a torn write (${corruption.amount / 10}% kept) at`;
  const logs = {
    metadata: "the metadata log",
    data: `${topic}-${corruption.partition}`,
    both: `${topic}-${corruption.partition} and the metadata log`,
  }[corruption.logs];
  return `${damage} the tail of ${logs}`;
}

/** "kill -9 node 2, restart after 3.1s", "cut 1<->3 for 4.0s", ... */
export function describeFault(fault: PlannedFault, topic: string): string {
  const [first, second] = fault.nodes;
  const hold = `for ${seconds(fault.holdMs)}`;
  const restart = `restart after ${seconds(fault.holdMs)}`;
  const what = {
    kill: () => `kill -9 node ${first}, ${restart}`,
    stop: () => `SIGTERM node ${first} (controlled shutdown), ${restart}`,
    pause: () => `SIGSTOP node ${first} ${hold}`,
    cut: () => `cut ${first}<->${second} ${hold}`,
    isolate: () => `isolate node ${first} from the others ${hold}`,
    corrupt: () => `kill -9 node ${first}, ${describeCorruption(fault.corruption!, topic)}, ${restart}`,
  }[fault.kind]();
  return fault.impatient ? `${what} (impatient: not waiting for a whole cluster)` : what;
}

/** The planned schedule, one line per fault, for the report and to compare replays. */
export function formatSchedule(faults: readonly PlannedFault[], topic: string): string[] {
  return faults.map((fault) => `#${fault.index} +${seconds(fault.atMs)} ${describeFault(fault, topic)}`);
}
