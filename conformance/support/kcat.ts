/**
 * kcat (librdkafka's command-line client) as a child process with a timeout,
 * and a byte-exact reader of a partition built on its `-f` output format.
 */
import { spawn } from "node:child_process";

export interface KcatResult {
  exitCode: number | null;
  stdout: Buffer;
  stderr: string;
}

const kcatTimeoutMsDefault = 60_000;

/** Runs kcat; rejects if it runs past the timeout (it is then killed) or exits non-zero. */
export function runKcat(
  args: string[],
  options: { input?: Buffer | string; timeoutMs?: number } = {},
): Promise<KcatResult> {
  const timeoutMs = options.timeoutMs ?? kcatTimeoutMsDefault;
  return new Promise((resolve, reject) => {
    const child = spawn("kcat", args, { stdio: ["pipe", "pipe", "pipe"] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(
        new Error(
          `kcat ${args.join(" ")} did not finish within ${timeoutMs} ms: ${Buffer.concat(stderr).toString()}`,
        ),
      );
    }, timeoutMs);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("close", (exitCode) => {
      clearTimeout(timer);
      const result = { exitCode, stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr).toString() };
      if (exitCode !== 0) {
        reject(new Error(`kcat ${args.join(" ")} exited with ${exitCode}: ${result.stderr}`));
        return;
      }
      resolve(result);
    });
    child.stdin.end(options.input ?? "");
  });
}

export interface ConsumedRecord {
  offset: bigint;
  key: Buffer | null;
  value: Buffer | null;
}

/**
 * `%o %K %S ` then the key and value bytes exactly as stored: the lengths
 * (-1 for null) tell where the key ends and the value ends, so any byte,
 * newlines and delimiters included, survives the trip.
 */
const lengthPrefixedFormat = "%o %K %S %k%s\n";

export function parseLengthPrefixedOutput(output: Buffer): ConsumedRecord[] {
  const records: ConsumedRecord[] = [];
  let position = 0;
  const readNumber = (): bigint => {
    const end = output.indexOf(0x20, position);
    if (end < 0) throw new Error(`kcat output truncated at byte ${position}`);
    const text = output.subarray(position, end).toString("latin1");
    position = end + 1;
    return BigInt(text);
  };
  const readBytes = (length: number): Buffer | null => {
    if (length < 0) return null;
    const bytes = Buffer.from(output.subarray(position, position + length));
    position += length;
    return bytes;
  };
  while (position < output.length) {
    const offset = readNumber();
    const keyLength = Number(readNumber());
    const valueLength = Number(readNumber());
    const key = readBytes(keyLength);
    const value = readBytes(valueLength);
    if (output[position] !== 0x0a)
      throw new Error(`kcat output: no newline after the record at offset ${offset}`);
    position += 1;
    records.push({ offset, key, value });
  }
  return records;
}

/** Every record of one partition, from the beginning to the end as kcat sees it when it starts. */
export async function consumeWithKcat(
  address: string,
  topic: string,
  partition = 0,
): Promise<ConsumedRecord[]> {
  const { stdout } = await runKcat([
    "-C",
    "-b",
    address,
    "-t",
    topic,
    "-p",
    String(partition),
    "-o",
    "beginning",
    "-e",
    "-q",
    "-f",
    lengthPrefixedFormat,
  ]);
  return parseLengthPrefixedOutput(stdout);
}

/**
 * `kcat -Q`: the offset ListOffsets answers for a timestamp (-1 latest, i.e.
 * the high watermark; -2 earliest); kcat prints `topic [partition]  offset N`.
 */
export async function queryOffset(
  address: string,
  topic: string,
  partition: number,
  timestamp: bigint,
): Promise<bigint | undefined> {
  const { stdout } = await runKcat(["-Q", "-b", address, "-t", `${topic}:${partition}:${timestamp}`]);
  for (const match of stdout.toString().matchAll(/\[(\d+)\]\s+offset\s+(-?\d+)/g)) {
    if (Number(match[1]) === partition) return BigInt(match[2]!);
  }
  return undefined;
}
