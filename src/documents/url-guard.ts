/**
 * The SSRF guard of document URLs: which addresses a URL may reach, and a fetch
 * that connects to the very address that was checked (the name is resolved once,
 * by us, so a DNS answer that changes between the check and the connect — DNS
 * rebinding — cannot send the request elsewhere).
 *
 * Refused by default: loopback, private, link-local, shared, multicast and reserved
 * ranges, in every spelling an IPv6 address can hide an IPv4 one (mapped, translated,
 * compatible, NAT64, 6to4).
 */
import { lookup as dnsLookup } from "node:dns/promises";
import { BlockList, isIP } from "node:net";
import { checkServerIdentity } from "node:tls";

const PRIVATE4 = new BlockList();
for (const [net, bits] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.0.2.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["198.51.100.0", 24],
  ["203.0.113.0", 24],
  ["224.0.0.0", 3],
] as const) {
  PRIVATE4.addSubnet(net, bits, "ipv4");
}

/** An IPv6 address as 16 bytes (with an embedded dotted quad, zone ids dropped), or null. */
export function ipv6Bytes(address: string): Uint8Array | null {
  let a = address.replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  if (isIP(a) !== 6) return null;
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(a);
  if (quad) {
    const [x, y, z, w] = quad.slice(1).map(Number) as [number, number, number, number];
    a = a.slice(0, quad.index) + `${((x << 8) | y).toString(16)}:${((z << 8) | w).toString(16)}`;
  }
  const [head, tail] = a.includes("::") ? (a.split("::") as [string, string]) : [a, undefined];
  const groups = (s: string) => (s ? s.split(":") : []);
  const h = groups(head);
  const t = tail === undefined ? [] : groups(tail);
  const all = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill("0"), ...t];
  if (all.length !== 8) return null;
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    const n = parseInt(g, 16);
    out[i * 2] = n >> 8;
    out[i * 2 + 1] = n & 0xff;
  });
  return out;
}

const startsWith = (b: Uint8Array, prefix: number[]) => prefix.every((v, i) => b[i] === v);
const zeros = (n: number) => Array<number>(n).fill(0);
const quadAt = (b: Uint8Array, at: number) => `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;

/** The IPv4 address an IPv6 one carries (mapped, translated, compatible, NAT64, 6to4), if any. */
function embeddedIpv4(b: Uint8Array): string | null {
  if (startsWith(b, [...zeros(10), 0xff, 0xff])) return quadAt(b, 12); // ::ffff:a.b.c.d (mapped)
  if (startsWith(b, [...zeros(8), 0xff, 0xff, 0, 0])) return quadAt(b, 12); // ::ffff:0:a.b.c.d (translated)
  if (startsWith(b, zeros(12))) return quadAt(b, 12); // ::a.b.c.d (compatible), :: and ::1 included
  if (startsWith(b, [0x00, 0x64, 0xff, 0x9b, ...zeros(8)])) return quadAt(b, 12); // 64:ff9b::/96 (NAT64)
  if (startsWith(b, [0x00, 0x64, 0xff, 0x9b, 0x00, 0x01])) return quadAt(b, 12); // 64:ff9b:1::/48 (local NAT64)
  if (startsWith(b, [0x20, 0x02])) return quadAt(b, 2); // 2002::/16 (6to4)
  return null;
}

export function isPrivateAddress(address: string): boolean {
  const host = address.replace(/^\[|\]$/g, "");
  const kind = isIP(host.replace(/%.*$/, ""));
  if (kind === 4) return PRIVATE4.check(host, "ipv4");
  if (kind !== 6) return true; // not an address at all: refuse
  const b = ipv6Bytes(host);
  if (!b) return true;
  const v4 = embeddedIpv4(b);
  if (v4 !== null) return PRIVATE4.check(v4, "ipv4");
  if ((b[0]! & 0xfe) === 0xfc) return true; // fc00::/7 unique local
  if (b[0] === 0xfe && (b[1]! & 0xc0) === 0x80) return true; // fe80::/10 link-local
  if (b[0] === 0xfe && (b[1]! & 0xc0) === 0xc0) return true; // fec0::/10 site-local (deprecated)
  if (b[0] === 0xff) return true; // multicast
  if (startsWith(b, [0x01, 0x00, ...zeros(6)])) return true; // 100::/64 discard
  if (startsWith(b, [0x20, 0x01, 0x0d, 0xb8])) return true; // 2001:db8::/32 documentation
  if (startsWith(b, [0x20, 0x01, 0x00, 0x00])) return true; // 2001::/32 Teredo (tunnels to anywhere)
  return false;
}

export type Lookup = (host: string) => Promise<string[]>;

const systemLookup: Lookup = async (host) => (await dnsLookup(host, { all: true, verbatim: true })).map((a) => a.address);

export class PrivateAddressError extends Error {}

/**
 * The address to connect to for `url`: the URL's own literal, or the first address its
 * name resolves to. Throws PrivateAddressError when any of them is private (unless allowed).
 */
export async function checkedAddress(url: URL, allowPrivate: boolean, lookup: Lookup = systemLookup): Promise<string> {
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const addresses = isIP(host) ? [host] : await lookup(host);
  if (addresses.length === 0) throw new Error(`${url.hostname} has no address`);
  if (!allowPrivate && addresses.some(isPrivateAddress)) {
    throw new PrivateAddressError(
      `${url.host} is a loopback, private or link-local address (set allow_private_urls in the [documents] section of the config file to allow it)`,
    );
  }
  return addresses[0]!;
}

/**
 * What to fetch so that the connection goes to `address` while the server still sees
 * the URL's host (Host header, TLS server name and certificate check).
 */
export function pinnedRequest(url: URL, address: string): { url: URL; headers: Record<string, string>; tls?: Record<string, unknown> } {
  const hostname = url.hostname.replace(/^\[|\]$/g, "");
  if (isIP(hostname)) return { url, headers: {} };
  const pinned = new URL(url);
  pinned.hostname = isIP(address) === 6 ? `[${address}]` : address;
  const headers = { host: url.host };
  if (url.protocol !== "https:") return { url: pinned, headers };
  return {
    url: pinned,
    headers,
    tls: { serverName: hostname, checkServerIdentity: (_: string, cert: unknown) => checkServerIdentity(hostname, cert as never) },
  };
}
