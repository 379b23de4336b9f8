// Test helpers: encoders that do not share code with the intake's decoders.
import zlib from 'node:zlib';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import protobuf from 'protobufjs';

export const protoDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../proto');

export function protoType(file: string, name: string): protobuf.Type {
  return protobuf.loadSync(path.join(protoDir, file)).lookupType(name);
}

export function encodeProto(type: protobuf.Type, obj: Record<string, unknown>): Buffer {
  // fromObject takes 64-bit values as decimal strings; verify() then checks the built message.
  const msg = type.fromObject(obj);
  const err = type.verify(msg);
  if (err) throw new Error(`test payload does not fit ${type.name}: ${err}`);
  return Buffer.from(type.encode(msg).finish());
}

type ZstdSync = (buf: Buffer) => Buffer;
const nativeZstd = (zlib as unknown as { zstdCompressSync?: ZstdSync }).zstdCompressSync;

/**
 * A zstd frame for `buf`: node:zlib where it has zstd, else the zstd CLI, else a frame of raw
 * (stored) blocks, which the zstd format allows and every decoder must read.
 */
export function zstd(buf: Buffer): Buffer {
  if (nativeZstd) return nativeZstd(buf);
  try {
    return execFileSync('zstd', ['-q', '-c', '-3'], { input: buf, stdio: ['pipe', 'pipe', 'ignore'] });
  } catch {
    return zstdRawFrame(buf);
  }
}

export function zstdRawFrame(buf: Buffer): Buffer {
  const parts: Buffer[] = [];
  const header = Buffer.alloc(9);
  header.writeUInt32LE(0xfd2fb528, 0);
  header[4] = 0xa0; // single segment, 4-byte frame content size, no checksum
  header.writeUInt32LE(buf.length, 5);
  parts.push(header);
  const max = 128 * 1024;
  let off = 0;
  do {
    const size = Math.min(max, buf.length - off);
    const last = off + size >= buf.length ? 1 : 0;
    const bh = (size << 3) | last; // block type 0 = raw
    parts.push(Buffer.from([bh & 0xff, (bh >> 8) & 0xff, (bh >> 16) & 0xff]), buf.subarray(off, off + size));
    off += size;
  } while (off < buf.length);
  return Buffer.concat(parts);
}

export const encoders: Record<string, (b: Buffer) => Buffer> = {
  identity: (b) => b,
  gzip: (b) => zlib.gzipSync(b),
  deflate: (b) => zlib.deflateSync(b),
  zstd,
};

export interface Posted {
  status: number;
  body: string;
}

export async function post(url: string, body: Buffer | string, headers: Record<string, string>, method = 'POST'): Promise<Posted> {
  const res = await fetch(url, { method, body: method === 'GET' ? null : body, headers });
  return { status: res.status, body: await res.text() };
}
