/**
 * The Kafka listener: accepts connections, hands each to a Connection, and on
 * shutdown stops accepting and closes what is open.
 */
import { createServer, type Server } from "node:net";
import type { Logger } from "../log.ts";
import { Connection, type ConnectionLimits, type FrameHandler } from "./connection.ts";

export interface ListenerOptions extends ConnectionLimits {
  host: string;
  port: number;
  /** Open connections accepted at once; past this new ones are closed at accept. */
  connectionsMax: number;
}

export class KafkaListener {
  private server: Server | undefined;
  private readonly connections = new Set<Connection>();

  constructor(
    private readonly options: ListenerOptions,
    private readonly handler: FrameHandler,
    private readonly logger: Logger,
  ) {}

  /** Resolves with the bound port (useful when asked for port 0). */
  async listen(): Promise<number> {
    const server = createServer((socket) => {
      if (this.connections.size >= this.options.connectionsMax) {
        this.logger.warn(
          {
            peer: `${socket.remoteAddress}:${socket.remotePort}`,
            connectionsMax: this.options.connectionsMax,
          },
          "refusing connection: too many open connections",
        );
        socket.destroy();
        return;
      }
      const connection = new Connection(socket, this.handler, this.options, this.logger, (closed) =>
        this.connections.delete(closed),
      );
      this.connections.add(connection);
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.options.port, this.options.host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("listener has no TCP address");
    return address.port;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const connection of this.connections) connection.close();
    await closed;
  }
}
