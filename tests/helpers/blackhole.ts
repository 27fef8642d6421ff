/**
 * A loopback port where TCP connections hang in the connect phase, like a
 * black-holed host: a socket listens with a backlog of 0 and never accepts, one
 * connection fills the queue, and the kernel silently drops every later SYN.
 * Bun cannot set a listen backlog, so the socket is made through libc (bun:ffi).
 * Linux only; `openBlackhole()` returns null where that is not available.
 */
import { dlopen, FFIType, ptr } from "bun:ffi";

export interface Blackhole {
  port: number;
  close(): void;
}

export async function openBlackhole(): Promise<Blackhole | null> {
  if (process.platform !== "linux") return null;
  let libc;
  try {
    libc = dlopen("libc.so.6", {
      socket: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
      bind: { args: [FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
      listen: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
      getsockname: { args: [FFIType.i32, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
      close: { args: [FFIType.i32], returns: FFIType.i32 },
    });
  } catch {
    return null;
  }
  const c = libc.symbols;
  const fd = c.socket(2 /* AF_INET */, 1 /* SOCK_STREAM */, 0);
  if (fd < 0) return null;
  // struct sockaddr_in { sa_family_t family; in_port_t port (big endian); struct in_addr addr; char zero[8] }
  const addr = new Uint8Array(16);
  addr[0] = 2;
  addr.set([127, 0, 0, 1], 4);
  const len = new Uint32Array([16]);
  if (c.bind(fd, ptr(addr), 16) !== 0 || c.listen(fd, 0) !== 0 || c.getsockname(fd, ptr(addr), ptr(len)) !== 0) {
    c.close(fd);
    return null;
  }
  const port = (addr[2]! << 8) | addr[3]!;
  // Fill the accept queue so that later connects hang.
  const filler = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } }).catch(() => null);
  if (!filler) {
    c.close(fd);
    return null;
  }
  return {
    port,
    close() {
      filler.end();
      c.close(fd);
    },
  };
}
