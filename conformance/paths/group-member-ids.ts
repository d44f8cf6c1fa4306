/**
 * The broker's member ids for the machine's. The machine names members
 * symbolically ("a1", "s2"); the broker makes its own ids (client or instance
 * id, "-", a UUID), learned where the machine's answer first names them.
 */
import { clients } from "../../machines/testing/consumer-group-paths.ts";

export class MemberIds {
  private readonly realByModel = new Map<string, string>();
  private readonly modelByReal = new Map<string, string>();

  constructor(known: Iterable<[string, string]> = []) {
    for (const [modelId, realId] of known) this.learn(modelId, realId);
  }

  /** The id to send for a model id; ids no client owns ("", "gone") are the same on both sides. */
  real(modelId: string): string {
    const realId = this.realByModel.get(modelId);
    if (realId !== undefined) return realId;
    if (ownerPrefix(modelId) !== null)
      throw new Error(`the broker's id for member ${modelId} is not known yet`);
    return modelId;
  }

  /**
   * The model's name for an id the broker gave, where the model expects
   * `expected`: an id not seen before is learned when it belongs to the
   * expected member's client; anything else stays the broker's, to show.
   */
  model(realId: string, expected: string): string {
    const known = this.modelByReal.get(realId);
    if (known !== undefined) return known;
    const prefix = ownerPrefix(expected);
    if (prefix !== null && !this.realByModel.has(expected) && realId.startsWith(prefix)) {
      this.learn(expected, realId);
      return expected;
    }
    return realId;
  }

  entries(): Array<[string, string]> {
    return [...this.realByModel];
  }

  private learn(modelId: string, realId: string): void {
    this.realByModel.set(modelId, realId);
    this.modelByReal.set(realId, modelId);
  }
}

/** How the broker's id for one of a client's model ids begins: its instance id or client id, then "-". */
function ownerPrefix(modelId: string): string | null {
  const client = clients.find((candidate) => candidate.ids.includes(modelId));
  return client === undefined ? null : `${client.groupInstanceId ?? client.name}-`;
}
