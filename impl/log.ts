/**
 * One structured JSON line per event (pino), on stderr so that stdout stays
 * free for the commands that print results (dump-log, machines export).
 */
import { pino } from "pino";

export type Logger = pino.Logger;

export function createLogger(name: string, level = process.env.CHRONIK_LOG_LEVEL ?? "info"): Logger {
  const destination = pino.destination({ fd: 2, sync: false });
  // A reader of stderr that went away (a closed pipe) must not take the broker down with it.
  destination.on("error", () => undefined);
  return pino({ name, level, base: { pid: process.pid } }, destination);
}

/** A logger that drops everything, for tests and tools that only want their own output. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
