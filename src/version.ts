import pkg from "../package.json" with { type: "json" };

export const NAME = "grok2api";
export const VERSION: string = pkg.version;
