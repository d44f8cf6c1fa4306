/**
 * KafkaJS group members as child processes (support/kafkajs-member.ts), with
 * what each has reported: its latest assignment and every message it
 * consumed. A test stops one cleanly (SIGTERM: LeaveGroup) or kills it
 * (SIGKILL: the coordinator must notice by the session timeout).
 */
import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const memberScript = path.join(path.dirname(fileURLToPath(import.meta.url)), "kafkajs-member.ts");

export interface ConsumedMessage {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: string | null;
}

export class GroupMember {
  /** Topic-partitions of the latest assignment, as "topic-partition". */
  assigned: string[] = [];
  /** How many assignments (rebalances) it has seen. */
  assignments = 0;
  readonly consumed: ConsumedMessage[] = [];
  readonly problems: string[] = [];
  private readonly exited: Promise<number | null>;

  private constructor(private readonly child: ChildProcess) {
    this.exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
    createInterface({ input: child.stdout! }).on("line", (line) => this.report(line));
    createInterface({ input: child.stderr! }).on("line", (line) => this.problems.push(line));
  }

  static start(options: {
    brokers: string[];
    groupId: string;
    topic: string;
    sessionTimeoutMs: number;
  }): GroupMember {
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        memberScript,
        options.brokers.join(","),
        options.groupId,
        options.topic,
        String(options.sessionTimeoutMs),
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    return new GroupMember(child);
  }

  private report(line: string): void {
    let parsed: { assigned?: Array<[string, number]>; consumed?: ConsumedMessage; crashed?: string };
    try {
      parsed = JSON.parse(line);
    } catch {
      this.problems.push(line);
      return;
    }
    if (parsed.assigned !== undefined) {
      this.assigned = parsed.assigned.map(([topic, partition]) => `${topic}-${partition}`).sort();
      this.assignments += 1;
    }
    if (parsed.consumed !== undefined) this.consumed.push(parsed.consumed);
    if (parsed.crashed !== undefined) this.problems.push(`consumer crashed: ${parsed.crashed}`);
  }

  /** False once the process has exited (a member whose consumer crashed for good exits). */
  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** SIGTERM: the member leaves the group and exits. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGTERM");
    await this.exited;
  }

  /** SIGKILL: no LeaveGroup; the group learns of it only when the session times out. */
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
    await this.exited;
  }
}
