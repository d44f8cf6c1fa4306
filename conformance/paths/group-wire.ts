/**
 * A simulated group client on the wire: raw Kafka requests with its own
 * client id, each answer awaited or left waiting as the machine's path says.
 * A broker answers the requests of one connection in order, so a request sent
 * while the client's join or sync waits would be answered only after it; the
 * client therefore sends each request on a connection with nothing
 * outstanding, opening another when all of its connections wait (a real
 * client waiting in a join sends nothing else; the paths do).
 */
import type { ApiDefinition } from "../../impl/protocol/api.ts";
import { encodeRequest } from "../../impl/protocol/api.ts";
import { writeRequestHeader } from "../../impl/protocol/headers.ts";
import { Writer } from "../../impl/protocol/writer.ts";
import { decodeResponseFrame, RawConnection } from "../support/raw-connection.ts";

/** A request on its way: its answer once it comes, and whether it has come. */
export interface Pending<Response> {
  readonly answer: Promise<Response>;
  settled(): boolean;
}

export class WireClient {
  private readonly idle: RawConnection[] = [];
  private readonly connections: RawConnection[] = [];
  private correlationId = 0;

  constructor(
    private readonly port: number,
    readonly clientId: string,
  ) {}

  async send<Response, RequestInput>(
    api: ApiDefinition<unknown, RequestInput, Response, unknown>,
    version: number,
    request: RequestInput,
  ): Promise<Pending<Response>> {
    const connection = this.idle.pop() ?? (await this.open());
    const correlationId = ++this.correlationId;
    const writer = new Writer();
    writeRequestHeader(
      writer,
      { apiKey: api.key, apiVersion: version, correlationId, clientId: this.clientId },
      version >= api.flexibleMin,
    );
    encodeRequest(api, version, request, writer);
    connection.writeFrame(writer.toBuffer());
    let settled = false;
    const answer = connection.nextFrame().then((frame) => {
      const decoded = decodeResponseFrame(api, version, frame);
      if (decoded.correlationId !== correlationId) {
        throw new Error(`${api.name}: answer ${decoded.correlationId} came for request ${correlationId}`);
      }
      settled = true;
      this.idle.push(connection);
      return decoded.response;
    });
    // A path that stops early leaves answers nobody awaits; their failure is not the test's.
    answer.catch(() => undefined);
    return { answer, settled: () => settled };
  }

  /** Sends and awaits the answer, giving up after `timeoutMs`. */
  async ask<Response, RequestInput>(
    api: ApiDefinition<unknown, RequestInput, Response, unknown>,
    version: number,
    request: RequestInput,
    timeoutMs: number,
  ): Promise<Response> {
    const pending = await this.send(api, version, request);
    return within(pending.answer, timeoutMs, `${api.name} from ${this.clientId}`);
  }

  close(): void {
    for (const connection of this.connections) connection.destroy();
  }

  private async open(): Promise<RawConnection> {
    const connection = await RawConnection.open(this.port);
    this.connections.push(connection);
    return connection;
  }
}

/** The promise's value, or an error naming what did not come within `timeoutMs`. */
export async function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer to ${what} within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}
