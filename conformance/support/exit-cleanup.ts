/**
 * Cleanups that must run however the process ends: normally, on an uncaught
 * error, or on SIGINT/SIGTERM (Ctrl-C in the middle of a fault campaign must
 * not leave nodes running, SIGSTOPped processes behind, or network
 * namespaces and routing rules in the machine). They are synchronous because
 * an `exit` handler cannot wait; they run newest first, so processes
 * started inside a network die before the network is taken down.
 */

type Cleanup = () => void;

const cleanups = new Set<Cleanup>();
let installed = false;

function runAll(): void {
  for (const cleanup of [...cleanups].reverse()) {
    cleanups.delete(cleanup);
    try {
      cleanup();
    } catch {
      // One failed cleanup must not keep the others from running.
    }
  }
}

function exitOnSignal(signal: NodeJS.Signals, code: number): void {
  process.once(signal, () => {
    runAll();
    process.exit(code);
  });
}

function install(): void {
  if (installed) return;
  installed = true;
  process.once("exit", runAll);
  exitOnSignal("SIGINT", 130);
  exitOnSignal("SIGTERM", 143);
}

/** Registers `cleanup`; the returned function unregisters it once it has been done the ordinary way. */
export function onExit(cleanup: Cleanup): () => void {
  install();
  cleanups.add(cleanup);
  return () => {
    cleanups.delete(cleanup);
  };
}
