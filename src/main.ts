#!/usr/bin/env bun
/**
 * Entry point. Before anything else is loaded, make sure Bun's fetch may run
 * more than 256 upstream requests at once (see fetch-limit.ts); then the
 * command line proper (cli.ts).
 */
import { liftFetchLimit } from "./fetch-limit";

const fetchLimit = liftFetchLimit();
void import("./cli").then(({ run }) => run(fetchLimit));
