// Reads the files of a gzipped tar (npm package tarballs): ustar names with prefix, GNU long names
// and pax `path` records. Enough for the pinned packages the layer takes files from.
import { gunzipSync } from 'node:zlib';

/** @returns {Map<string, { data: Buffer, mode: number }>} keyed by path inside the archive */
export function readTgz(tgz) {
  const tar = gunzipSync(tgz);
  const files = new Map();
  let p = 0;
  let longName;
  const field = (off, len) => tar.toString('utf8', p + off, p + off + len).replace(/\0.*$/s, '');
  while (p + 512 <= tar.length) {
    if (tar.subarray(p, p + 512).every((b) => b === 0)) break;
    const size = Number.parseInt(field(124, 12).trim() || '0', 8);
    const type = String.fromCharCode(tar[p + 156] || 48);
    const prefix = field(345, 155);
    let name = longName ?? (prefix ? `${prefix}/${field(0, 100)}` : field(0, 100));
    longName = undefined;
    const mode = Number.parseInt(field(100, 8).trim() || '644', 8);
    const body = tar.subarray(p + 512, p + 512 + size);
    p += 512 + Math.ceil(size / 512) * 512;
    if (type === 'L') {
      longName = body.toString('utf8').replace(/\0.*$/s, '');
    } else if (type === 'x') {
      const m = /\d+ path=([^\n]*)\n/.exec(body.toString('utf8'));
      if (m) longName = m[1];
    } else if (type === '0' || type === '7') {
      files.set(name, { data: Buffer.from(body), mode: mode & 0o7777 });
    }
    name = '';
  }
  return files;
}
