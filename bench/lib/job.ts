/**
 * What a job of the benchmark is: it measures one thing (bench/jobs/<name>.ts) and says how its
 * figures go in the report. bench/run.ts runs the jobs in order on one shared stand.
 */
import { BODIES, pathOf, startGateway, startPipe, startUpstream, upstreamBodyFor, warmUp, type Dialect, type Gateway, type Upstream } from "./stand";
import { stop } from "./proc";

/** A row of the figures table: scenario, figure, direct, pipe, gateway, gateway ÷ direct, gateway ÷ pipe. */
export type Row = [string, string, string, string, string, string, string];

export interface Goal {
  name: string;
  goal: string;
  value: string;
  pass: boolean;
}

export interface Job<R> {
  name: string;
  /** Run by `bench --quick` too. */
  quick: boolean;
  run(ctx: Ctx): Promise<R>;
  rows(r: R): Row[];
  goals?(r: R): Goal[];
  /** Ratios a later `bench --quick` compares with (name → value). */
  ratios?(r: R): Record<string, number>;
  /** "How it was measured", one bullet. */
  method(r: R): string;
}

/** The shared stand: one fake upstream, one pipe, and gateways started (and warmed up) on first use. */
export class Ctx {
  private gateways = new Map<string, Promise<Gateway>>();
  private bodies = new Map<string, Promise<string>>();
  private constructor(
    readonly up: Upstream,
    readonly pipe: Upstream,
  ) {}

  static async start(): Promise<Ctx> {
    const up = await startUpstream();
    const pipe = await startPipe(up);
    return new Ctx(up, pipe);
  }

  /** The gateway for a dialect, teams off or on (kept for the following jobs). */
  gateway(dialect: Dialect, teams = false): Promise<Gateway> {
    const k = `${dialect}${teams ? "+teams" : ""}`;
    let g = this.gateways.get(k);
    if (!g) {
      g = startGateway(this.up, { dialect, teams }).then(async (gw) => {
        await warmUp(gw);
        return gw;
      });
      this.gateways.set(k, g);
    }
    return g;
  }

  /** What a face of a gateway sends upstream for a client body (read back once from the fake). */
  upstreamBody(dialect: Dialect, face: "messages" | "openai", stream: boolean): Promise<string> {
    const k = `${dialect}:${face}:${stream}`;
    let b = this.bodies.get(k);
    if (!b) {
      b = this.gateway(dialect).then((gw) => {
        const path = face === "messages" ? "/v1/messages" : pathOf(dialect);
        const body = face === "messages" ? BODIES.messages : BODIES[dialect];
        return upstreamBodyFor(this.up, gw, path, stream ? body.stream : body.nonStream);
      });
      this.bodies.set(k, b);
    }
    return b;
  }

  async close(): Promise<void> {
    for (const g of this.gateways.values()) await g.then((gw) => stop(gw.p), () => {});
    await stop(this.pipe.p);
    await stop(this.up.p);
  }
}
