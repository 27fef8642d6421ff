/**
 * One Redis connection (Bun's built-in client) that may go away: every command is bounded in
 * time, and a command that fails or takes too long marks Redis away (the caller falls back to
 * what it keeps locally) until the connection is back or a later command succeeds. Said once
 * in the log each way.
 */
import { RedisClient } from "bun";
import type { Logger } from "../http/log";

/** How often a Redis that could not be reached is tried again. */
const RETRY_MS = 5000;
/** Commands that take longer than this count as Redis being away. */
export const REDIS_TIMEOUT_MS = 500;
/** How long commands wait for the first connection before Redis counts as away. */
const CONNECT_WAIT_MS = 2000;

export interface RedisLinkWords {
  /** Logged when Redis goes away, e.g. "rate limits … are counted on this instance only until it is back". */
  away: string;
  /** Logged when it is back. */
  back: string;
}

export class RedisLink {
  readonly client: RedisClient;
  private down = false;
  private retry: ReturnType<typeof setInterval> | undefined;
  /** The first connection, until it is made or fails: commands wait for it rather than find Redis "away" at start-up. */
  private connecting: Promise<void> | undefined;

  constructor(
    url: string,
    private readonly logger: Logger,
    private readonly words: RedisLinkWords,
    /** Told each time Redis is found answering (the first connection included) or away. */
    private readonly onChange?: (up: boolean) => void,
  ) {
    this.client = new RedisClient(url, {
      autoReconnect: true,
      maxRetries: 4_000_000_000,
      enableOfflineQueue: false,
      connectionTimeout: 2000,
    });
    this.client.onconnect = () => this.cameBack();
    this.client.onclose = () => this.wentAway();
    const first = this.client.connect().then(
      () => {},
      () => this.wentAway(),
    );
    // Waited for no longer than a connection may take (it may keep trying for ever).
    let timer: ReturnType<typeof setTimeout> | undefined;
    const lapse = new Promise<void>((resolve) => (timer = setTimeout(resolve, CONNECT_WAIT_MS)));
    timer?.unref?.();
    this.connecting = Promise.race([first, lapse]).finally(() => {
      clearTimeout(timer);
      this.connecting = undefined;
    });
  }

  /** Redis answers (as far as the last command knows). */
  get up(): boolean {
    return !this.down;
  }

  private cameBack(): void {
    if (this.down) this.logger.info(this.words.back);
    this.down = false;
    if (this.retry) clearInterval(this.retry);
    this.retry = undefined;
    this.onChange?.(true);
  }

  private wentAway(): void {
    if (this.down) return;
    this.down = true;
    this.logger.warn(this.words.away);
    this.onChange?.(false);
    // The client reconnects by itself after a dropped connection; a first connection that failed is tried again here.
    this.retry ??= setInterval(() => {
      if (!this.client.connected) this.client.connect().catch(() => {});
    }, RETRY_MS);
    this.retry.unref?.();
  }

  /** A Redis command, or undefined when Redis is away (the caller falls back to what it keeps locally). */
  async run<T>(f: (c: RedisClient) => Promise<T>): Promise<T | undefined> {
    if (this.connecting) await this.connecting;
    if (this.down && !this.client.connected) return undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const value = await Promise.race([
        f(this.client),
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error("redis timeout")), REDIS_TIMEOUT_MS))),
      ]);
      // A command that timed out marks Redis away without the connection dropping: no onconnect
      // will say it is back, the next command that succeeds does.
      if (this.down) this.cameBack();
      return value;
    } catch {
      this.wentAway();
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    if (this.retry) clearInterval(this.retry);
    this.retry = undefined;
    this.client.onclose = null as never;
    this.client.close();
  }
}
