/** Loaded before every test run (bunfig.toml): the run's temporary folder goes when the run ends. */
import { afterAll } from "bun:test";
import { removeTempRoot } from "./temp";

afterAll(removeTempRoot);
