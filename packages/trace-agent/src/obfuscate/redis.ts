// Redis (and Valkey) commands: the span resource is quantized to command names; the raw command
// tag is obfuscated argument by argument when DD_APM_OBFUSCATION_REDIS_ENABLED is on.

/** Commands whose first argument is a sub-command that belongs in the quantized name. */
const COMPOUND = new Set(['CLIENT', 'CLUSTER', 'COMMAND', 'CONFIG', 'DEBUG', 'SCRIPT']);
const MAX_COMMANDS = 3;

function words(cmd: string): string[] {
  return cmd
    .trim()
    .split(/\s+/)
    .filter((w) => w !== '');
}

/** `SET k v\nGET k` → `SET GET`; more than three commands end in `...`. */
export function quantizeRedis(query: string): string {
  const names: string[] = [];
  let more = false;
  for (const line of query.split('\n')) {
    const w = words(line);
    const first = w[0];
    if (first === undefined || first.endsWith('...')) continue;
    if (names.length === MAX_COMMANDS) {
      more = true;
      break;
    }
    const cmd = first.toUpperCase();
    const sub = w[1];
    names.push(COMPOUND.has(cmd) && sub !== undefined ? `${cmd} ${sub.toUpperCase()}` : cmd);
  }
  return names.join(' ') + (more ? ' ...' : '');
}

/** Which arguments (after the command) hide values, by command. */
function hide(cmd: string, args: string[]): string[] {
  const a = [...args];
  const q = (i: number): void => {
    if (i < a.length) a[i] = '?';
  };
  switch (cmd) {
    case 'AUTH':
      return a.length > 0 ? ['?'] : a;
    case 'APPEND':
    case 'GETSET':
    case 'LPUSHX':
    case 'GEORADIUSBYMEMBER':
    case 'RPUSHX':
    case 'SET':
    case 'SETNX':
    case 'SISMEMBER':
    case 'ZRANK':
    case 'ZREVRANK':
    case 'ZSCORE':
      q(1);
      return a;
    case 'HSETNX':
    case 'LREM':
    case 'LSET':
    case 'SETBIT':
    case 'SETEX':
    case 'PSETEX':
    case 'SETRANGE':
    case 'ZINCRBY':
    case 'SMOVE':
    case 'RESTORE':
      q(2);
      return a;
    case 'LINSERT':
      q(3);
      return a;
    case 'GEOHASH':
    case 'GEOPOS':
    case 'GEODIST':
    case 'LPUSH':
    case 'RPUSH':
    case 'SREM':
    case 'ZREM':
    case 'SADD':
      return a.length > 1 ? [a[0] as string, '?'] : a;
    case 'GEOADD':
      for (let i = 3; i < a.length; i += 3) a[i] = '?';
      return a;
    case 'HSET':
    case 'HMSET':
      for (let i = 2; i < a.length; i += 2) a[i] = '?';
      return a;
    case 'MSET':
    case 'MSETNX':
      for (let i = 1; i < a.length; i += 2) a[i] = '?';
      return a;
    case 'CONFIG':
      if (a[0]?.toUpperCase() === 'SET') for (let i = 2; i < a.length; i++) a[i] = '?';
      return a;
    case 'ZADD':
      for (let i = 1; i < a.length; i++) if (!/^(NX|XX|GT|LT|CH|INCR)$/i.test(a[i] as string) && Number.isNaN(Number(a[i]))) a[i] = '?';
      return a;
    default:
      return a;
  }
}

export function obfuscateRedis(raw: string, removeAllArgs: boolean): string {
  return raw
    .split('\n')
    .map((line) => {
      const w = words(line);
      const first = w[0];
      if (first === undefined) return line;
      const cmd = first.toUpperCase();
      const args = w.slice(1);
      if (removeAllArgs) {
        if (COMPOUND.has(cmd) && args[0] !== undefined) return [first, args[0], ...(args.length > 1 ? ['?'] : [])].join(' ');
        return args.length > 0 ? `${first} ?` : first;
      }
      return [first, ...hide(cmd, args)].join(' ');
    })
    .join('\n');
}
