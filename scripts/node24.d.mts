/** The path of a Node 24 binary: AWAITRESS_NODE24 if set, else the cached one (installed on first use). */
export function node24(): string;
export const NODE24_VERSION: string;
