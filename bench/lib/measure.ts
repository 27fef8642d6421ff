/** What the benchmark reads of a process (from /proc), and the small statistics and formats it uses. */
import { readdirSync, readFileSync } from "node:fs";

/** Resident set size of a process, KB (VmRSS). */
export function rssKB(pid: number): number {
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]);
}

/** CPU time all threads of a process have used so far, ms (ns precision, from schedstat). */
export function threadsCpuMs(pid: number): number {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
    } catch {
      // thread ended
    }
  }
  return ns / 1e6;
}

/** CPU time the main thread (the JavaScript thread) of a process has used so far, ms (schedstat). */
export function mainThreadCpuMs(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, "utf8").split(" ")[0]) / 1e6;
}

const TICKS = 100; // USER_HZ on Linux
/** CPU time (user + system) a process has used, ms (10 ms ticks). */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS;
}

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n === 0 ? NaN : n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
};

export const fmtInt = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "–");
export const fmtMs = (n: number) => (Number.isFinite(n) ? (Math.abs(n) < 10 ? n.toFixed(2) : n.toFixed(1)) + " ms" : "–");
export const fmtUs = (ms: number) => (Number.isFinite(ms) ? (ms * 1000).toFixed(0) + " µs" : "–");
export const fmtMB = (kb: number) => (Number.isFinite(kb) ? (kb / 1024).toFixed(1) + " MB" : "–");
export const fmtKB = (kb: number) => (Number.isFinite(kb) ? kb.toFixed(1) + " KB" : "–");
export const fmtX = (r: number) => (Number.isFinite(r) ? r.toFixed(2) + "×" : "–");
/** A difference, signed: "+0.42 ms", "−1.10 ms". */
export const fmtDeltaMs = (n: number) => (n < 0 ? `−${fmtMs(-n)}` : `+${fmtMs(n)}`);
export const fmtDeltaMB = (kb: number) => (kb < 0 ? `−${fmtMB(-kb)}` : `+${fmtMB(kb)}`);
