/**
 * Requests to a node over one connection, the way a broker or client speaks
 * to it: one request at a time, each answer matched to its request by the
 * correlation id and decoded with the project's own grammar, which checks
 * every length it reads against the frame.
 */
import type { ApiDefinition } from "../../impl/protocol/api.ts";
import { decodeResponseFrame, RawConnection } from "../support/raw-connection.ts";

export class RequestConnection {
  private nextCorrelationId = 1;
  /** The request in flight: the next waits for it, so answers come back in order. */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(private readonly connection: RawConnection) {}

  static async open(port: number): Promise<RequestConnection> {
    return new RequestConnection(await RawConnection.open(port));
  }

  /** Resolves once the connection is closed, by either side. */
  get closed(): Promise<void> {
    return this.connection.closed;
  }

  send<Response, RequestInput>(
    api: ApiDefinition<unknown, RequestInput, Response, unknown>,
    version: number,
    request: RequestInput,
  ): Promise<Response> {
    const sent = this.queue.then(async () => {
      const correlationId = this.nextCorrelationId++;
      this.connection.writeRequest(api, version, correlationId, request);
      const answer = decodeResponseFrame(api, version, await this.connection.nextFrame());
      if (answer.correlationId !== correlationId) {
        throw new Error(
          `${api.name} answered with correlation id ${answer.correlationId}, not ${correlationId}`,
        );
      }
      return answer.response;
    });
    // A failed request must not fail the ones queued behind it: each learns of the closed connection itself.
    this.queue = sent.catch(() => undefined);
    return sent;
  }

  close(): void {
    this.connection.destroy();
  }
}

/** One request on a connection of its own, closed once answered. */
export async function requestOnce<Response, RequestInput>(
  port: number,
  api: ApiDefinition<unknown, RequestInput, Response, unknown>,
  version: number,
  request: RequestInput,
): Promise<Response> {
  const connection = await RequestConnection.open(port);
  try {
    return await connection.send(api, version, request);
  } finally {
    connection.close();
  }
}
