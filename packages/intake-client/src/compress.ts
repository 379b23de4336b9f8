// Payload compression. zstd where the running Node has it (node:zlib zstd landed in 22.15 / 23.8;
// the layer ships Node 22/24), gzip otherwise. Both run on libuv's pool, off the event loop.
import zlib from 'node:zlib';
import { promisify } from 'node:util';

export type Encoding = 'zstd' | 'gzip' | 'identity';

type ZstdCompress = (buf: Buffer, opts: { params: Record<number, number> }, cb: (err: Error | null, out: Buffer) => void) => void;

const zstdCompress = (zlib as unknown as { zstdCompress?: ZstdCompress }).zstdCompress;
const zstdLevelParam = (zlib.constants as unknown as Record<string, number | undefined>)['ZSTD_c_compressionLevel'];
const gzip = promisify(zlib.gzip);

/** True when this Node can produce zstd. */
export const hasZstd: boolean = typeof zstdCompress === 'function' && zstdLevelParam !== undefined;

export interface Compressed {
  encoding: Encoding;
  data: Buffer;
}

/**
 * Compress `body` with `prefer` (falling back to gzip when zstd is missing). Level is the zstd level
 * (1..22); gzip gets it clamped to 1..9. Level 0 or `identity` sends the body as is.
 */
export async function compress(body: Buffer, prefer: Encoding, level: number): Promise<Compressed> {
  if (prefer === 'identity' || level <= 0) return { encoding: 'identity', data: body };
  if (prefer === 'zstd' && zstdCompress && zstdLevelParam !== undefined) {
    const param = zstdLevelParam;
    const data = await new Promise<Buffer>((resolve, reject) => {
      zstdCompress(body, { params: { [param]: Math.min(22, level) } }, (err, out) => (err ? reject(err) : resolve(out)));
    });
    return { encoding: 'zstd', data };
  }
  return { encoding: 'gzip', data: await gzip(body, { level: Math.min(9, Math.max(1, level)) }) };
}
