/**
 * The cluster models `chronik check` knows, with the bounds CI explores them
 * to. Empty until the models composing the machines exist.
 */
import type { ModelEntry } from "../checker/model.ts";

export const models: ModelEntry[] = [];
