// Drops the debug sections and the static symbol table from a 64-bit little-endian ELF executable
// (what `strip --strip-debug --strip-unneeded` would remove from Node's release binary), so the full
// layer fits its 45 MB budget with room: Node's binary deflates to ~45.6 MB as shipped, ~41 MB without them.
// Done in JS because the build must also strip the arm64 binary on an x86_64 machine. Those sections
// are never loaded (no SHF_ALLOC) and sit together at the end of the file, just before the section
// name table; anything else is left as it is, and an unexpected layout returns the input unchanged.

const SHF_ALLOC = 0x2;
const SHT_NOBITS = 8;

/** @returns {{ data: Buffer, removed: string[] }} */
export function stripElf(input) {
  const b = input;
  const unchanged = { data: input, removed: [] };
  if (b.readUInt32BE(0) !== 0x7f454c46 || b[4] !== 2 || b[5] !== 1) return unchanged; // ELF64, little endian
  const shoff = Number(b.readBigUInt64LE(0x28));
  const shentsize = b.readUInt16LE(0x3a);
  const shnum = b.readUInt16LE(0x3c);
  const shstrndx = b.readUInt16LE(0x3e);
  if (shentsize !== 64 || shstrndx !== shnum - 1) return unchanged;
  const sections = [];
  for (let i = 0; i < shnum; i++) {
    const at = shoff + i * 64;
    sections.push({
      header: Buffer.from(b.subarray(at, at + 64)),
      nameOff: b.readUInt32LE(at),
      type: b.readUInt32LE(at + 4),
      flags: Number(b.readBigUInt64LE(at + 8)),
      offset: Number(b.readBigUInt64LE(at + 0x18)),
      size: Number(b.readBigUInt64LE(at + 0x20)),
    });
  }
  const names = sections[shstrndx];
  const nameOf = (s) => {
    const start = names.offset + s.nameOff;
    return b.toString('latin1', start, b.indexOf(0, start));
  };
  const removable = (s) => (s.flags & SHF_ALLOC) === 0 && /^(\.debug_|\.symtab$|\.strtab$)/.test(nameOf(s));
  const first = sections.findIndex(removable);
  if (first < 0) return unchanged;
  // The removed sections must be one block right before the name table, with no kept data after them.
  for (let i = first; i < shstrndx; i++) if (!removable(sections[i])) return unchanged;
  const cut = Math.min(...sections.slice(first, shstrndx).map((s) => s.offset));
  for (let i = 0; i < first; i++) {
    const s = sections[i];
    if (s.type !== SHT_NOBITS && s.offset + s.size > cut) return unchanged;
  }
  const kept = [...sections.slice(0, first), names];
  const nameData = b.subarray(names.offset, names.offset + names.size);
  const namesAt = cut;
  const headersAt = Math.ceil((namesAt + nameData.length) / 8) * 8;
  const out = Buffer.alloc(headersAt + kept.length * 64);
  b.copy(out, 0, 0, cut);
  nameData.copy(out, namesAt);
  kept.forEach((s, i) => {
    const h = Buffer.from(s.header);
    if (s === names) h.writeBigUInt64LE(BigInt(namesAt), 0x18);
    h.copy(out, headersAt + i * 64);
  });
  out.writeBigUInt64LE(BigInt(headersAt), 0x28);
  out.writeUInt16LE(kept.length, 0x3c);
  out.writeUInt16LE(kept.length - 1, 0x3e);
  return { data: out, removed: sections.slice(first, shstrndx).map(nameOf) };
}
