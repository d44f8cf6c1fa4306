/** Topics the broker keeps for itself: never created, listed, produced to or fetched by clients. */
export const metadataTopicName = "__chronik_metadata";

export const internalTopicNames: ReadonlySet<string> = new Set([metadataTopicName]);
