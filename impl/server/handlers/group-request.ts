/** What the group handlers share about the client that sent a request. */

/** Kafka reports a member's host as the address it connected from, with a leading slash. */
export function clientHostOf(peer: string): string {
  const match = /^\[?([^\]]*?)\]?:\d+$/.exec(peer);
  return `/${match?.[1] ?? peer}`;
}
