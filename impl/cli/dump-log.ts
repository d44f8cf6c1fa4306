/**
 * `chronik dump-log`: every record of one partition, read straight from its
 * segment files (the broker may be running or stopped), one line per record.
 * Tests and operators compare replicas with it.
 */
import { stat } from "node:fs/promises";
import path from "node:path";
import { type Command, Option } from "commander";
import { compressionOf, lastOffsetOf } from "../protocol/record-batch.ts";
import { decodeBatchRecords } from "../protocol/records.ts";
import { scanPartitionDirectory } from "../storage/segment-scan.ts";

type Encoding = "utf8" | "base64" | "hex";

interface DumpOptions {
  dataDir: string;
  topic: string;
  partition: string;
  json?: boolean;
  encoding: Encoding;
}

function text(bytes: Buffer | null, encoding: Encoding): string | null {
  return bytes === null ? null : bytes.toString(encoding);
}

export async function dumpLog(options: DumpOptions, write: (line: string) => void): Promise<number> {
  const partition = Number(options.partition);
  if (!Number.isInteger(partition) || partition < 0) throw new Error(`--partition must be an integer ≥ 0`);
  const directory = path.join(options.dataDir, `${options.topic}-${partition}`);
  const found = await stat(directory).catch(() => null);
  if (!found?.isDirectory()) throw new Error(`no partition directory ${directory}`);
  let count = 0;
  for await (const { buffer, header } of scanPartitionDirectory(directory)) {
    if (!options.json) {
      write(
        `baseOffset: ${header.baseOffset} lastOffset: ${lastOffsetOf(header)} count: ${header.recordsCount} ` +
          `leaderEpoch: ${header.partitionLeaderEpoch} compression: ${compressionOf(header.attributes)} ` +
          `size: ${header.sizeBytes} crc: ${header.crc}`,
      );
    }
    for (const record of decodeBatchRecords(buffer, header)) {
      count += 1;
      const headers = record.headers.map((entry) => ({
        key: entry.key,
        value: text(entry.value, options.encoding),
      }));
      if (options.json) {
        write(
          JSON.stringify({
            offset: record.offset.toString(),
            timestamp: record.timestamp.toString(),
            key: text(record.key, options.encoding),
            value: text(record.value, options.encoding),
            headers,
          }),
        );
      } else {
        const headerText = headers.map((entry) => `${entry.key}=${entry.value}`).join(",");
        write(
          `| offset: ${record.offset} timestamp: ${record.timestamp} key: ${text(record.key, options.encoding)} ` +
            `value: ${text(record.value, options.encoding)} headers: ${headerText}`,
        );
      }
    }
  }
  return count;
}

export function addDumpLogCommand(program: Command): void {
  program
    .command("dump-log")
    .description("print each record of a partition from its segment files")
    .requiredOption("--data-dir <DIR>", "the node's data directory")
    .requiredOption("--topic <T>", "topic name")
    .requiredOption("--partition <P>", "partition index")
    .option("--json", "one JSON object per record")
    .addOption(
      new Option("--encoding <ENCODING>", "how keys, values and header values are printed")
        .choices(["utf8", "base64", "hex"])
        .default("utf8"),
    )
    .action(async (options: DumpOptions) => {
      const lines: string[] = [];
      const flush = () => {
        if (lines.length > 0) process.stdout.write(`${lines.join("\n")}\n`);
        lines.length = 0;
      };
      await dumpLog(options, (line) => {
        lines.push(line);
        if (lines.length >= 1000) flush();
      });
      flush();
    });
}
