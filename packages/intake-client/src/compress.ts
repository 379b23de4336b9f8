// Payload compression. zstd where the running Node has it (node:zlib zstd landed in 22.15 / 23.8;
// the layer ships Node 22), gzip otherwise. Small and medium payloads (every flush of a warm
// invocation) compress synchronously on the calling worker thread with the source size pledged, so
// zstd sizes its context to the payload instead of allocating one for a 8 MB window: measured on the
// layer's Node for a 22 KB series payload, 341 µs async-sized against ~70-110 µs pledged. Large ones
// go to libuv's pool so the worker's event loop keeps serving tracers.
import zlib from 'node:zlib';
import { promisify } from 'node:util';

export type Encoding = 'zstd' | 'gzip' | 'identity';

interface ZstdOptions {
  params: Record<number, number>;
  pledgedSrcSize?: number;
}
type ZstdCompress = (buf: Buffer, opts: ZstdOptions, cb: (err: Error | null, out: Buffer) => void) => void;
type ZstdCompressSync = (buf: Buffer, opts: ZstdOptions) => Buffer;

const z = zlib as unknown as { zstdCompress?: ZstdCompress; zstdCompressSync?: ZstdCompressSync };
const zstdLevelParam = (zlib.constants as unknown as Record<string, number | undefined>)['ZSTD_c_compressionLevel'];
const gzip = promisify(zlib.gzip);

/** True when this Node can produce zstd. */
export const hasZstd: boolean = typeof z.zstdCompress === 'function' && typeof z.zstdCompressSync === 'function' && zstdLevelParam !== undefined;

/** Below this, compression saves nothing worth its CPU: the body goes as is. */
export const MIN_COMPRESS_BYTES = 256;
/** Up to this, compression runs inline (well under a millisecond at level 3); beyond, on the pool. */
export const SYNC_COMPRESS_BYTES = 1024 * 1024;

export interface Compressed {
  encoding: Encoding;
  data: Buffer;
}

/**
 * Compress `body` with `prefer` (falling back to gzip when zstd is missing). Level is the zstd level
 * (1..22); gzip gets it clamped to 1..9. Level 0, `identity` or a tiny body sends the body as is.
 */
export async function compress(body: Buffer, prefer: Encoding, level: number): Promise<Compressed> {
  if (prefer === 'identity' || level <= 0 || body.length < MIN_COMPRESS_BYTES) return { encoding: 'identity', data: body };
  const inline = body.length <= SYNC_COMPRESS_BYTES;
  if (prefer === 'zstd' && hasZstd && zstdLevelParam !== undefined) {
    const opts: ZstdOptions = { params: { [zstdLevelParam]: Math.min(22, level) }, pledgedSrcSize: body.length };
    if (inline && z.zstdCompressSync) return { encoding: 'zstd', data: z.zstdCompressSync(body, opts) };
    const data = await new Promise<Buffer>((resolve, reject) => {
      z.zstdCompress?.(body, opts, (err, out) => (err ? reject(err) : resolve(out)));
    });
    return { encoding: 'zstd', data };
  }
  const gz = { level: Math.min(9, Math.max(1, level)) };
  return { encoding: 'gzip', data: inline ? zlib.gzipSync(body, gz) : await gzip(body, gz) };
}
