// SQL obfuscation as the agent does it for `sql`/`cassandra` spans: literals (strings, numbers,
// booleans, NULL, positional parameters) become `?`, comments go, whitespace collapses, and lists
// of placeholders collapse: `IN (1, 2, 3)` → `IN ( ? )`, `VALUES (1, 'a'), (2, 'b')` → `VALUES ( ? )`.
// Identifiers, quoted identifiers and keywords are kept as written.

type Kind = 'word' | 'lit' | 'punct';
interface Tok {
  k: Kind;
  v: string;
}

const LITERAL_WORDS = new Set(['NULL', 'TRUE', 'FALSE']);
const MULTI_OPS = ['->>', '<=>', '<>', '!=', '<=', '>=', '||', '::', ':=', '=>', '->', '<<', '>>', '&&'];
/** After these a `-` or `+` is a sign, not an operator. */
const SIGN_CONTEXT = new Set(['(', ',', '=', '<', '>', '<=', '>=', '<>', '!=', '+', '-', '*', '/', '%']);

function isIdentStart(c: string): boolean {
  return /[A-Za-z_\u0080-\uffff@]/.test(c);
}
function isIdentPart(c: string): boolean {
  return /[A-Za-z0-9_$.\u0080-\uffff@#]/.test(c);
}
function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

function tokenize(q: string): Tok[] {
  const out: Tok[] = [];
  const n = q.length;
  let i = 0;
  const prevIsSignContext = (): boolean => {
    const p = out[out.length - 1];
    return (
      p === undefined ||
      (p.k === 'punct' && SIGN_CONTEXT.has(p.v)) ||
      (p.k === 'word' && /^(SELECT|WHERE|AND|OR|NOT|ON|WHEN|THEN|ELSE|BY|LIMIT|OFFSET|VALUES|SET|RETURN|IN|BETWEEN|LIKE|IS|CASE|HAVING)$/i.test(p.v))
    );
  };
  while (i < n) {
    const c = q[i] as string;
    const d = q[i + 1];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f') {
      i++;
    } else if (c === '-' && d === '-') {
      while (i < n && q[i] !== '\n') i++;
    } else if (c === '/' && d === '*') {
      const end = q.indexOf('*/', i + 2);
      i = end < 0 ? n : end + 2;
    } else if (c === "'" || ((c === 'E' || c === 'e' || c === 'N' || c === 'n' || c === 'B' || c === 'b' || c === 'X' || c === 'x') && d === "'")) {
      i += c === "'" ? 1 : 2;
      while (i < n) {
        if (q[i] === '\\') i += 2;
        else if (q[i] === "'") {
          if (q[i + 1] === "'") i += 2;
          else {
            i++;
            break;
          }
        } else i++;
      }
      out.push({ k: 'lit', v: '?' });
    } else if (c === '$' && (d === '$' || (d !== undefined && /[A-Za-z_]/.test(d) && /^\$[A-Za-z_][A-Za-z0-9_]*\$/.test(q.slice(i, i + 64))))) {
      // Dollar-quoted string (PostgreSQL): $$...$$ or $tag$...$tag$.
      const tag = /^\$[A-Za-z0-9_]*\$/.exec(q.slice(i))?.[0] ?? '$$';
      const end = q.indexOf(tag, i + tag.length);
      i = end < 0 ? n : end + tag.length;
      out.push({ k: 'lit', v: '?' });
    } else if (c === '$' && isDigit(d)) {
      i++;
      while (isDigit(q[i])) i++;
      out.push({ k: 'lit', v: '?' });
    } else if (c === '%' && d === 's') {
      i += 2;
      out.push({ k: 'lit', v: '?' });
    } else if (c === '"' || c === '`') {
      const start = i++;
      while (i < n && q[i] !== c) i++;
      i++;
      out.push({ k: 'word', v: q.slice(start, Math.min(i, n)) });
    } else if (isDigit(c) || (c === '.' && isDigit(d)) || ((c === '-' || c === '+') && (isDigit(d) || (d === '.' && isDigit(q[i + 2]))) && prevIsSignContext())) {
      if (c === '-' || c === '+') i++;
      if (q[i] === '0' && (q[i + 1] === 'x' || q[i + 1] === 'X')) {
        i += 2;
        while (i < n && /[0-9A-Fa-f]/.test(q[i] as string)) i++;
      } else {
        while (isDigit(q[i]) || q[i] === '.') i++;
        if ((q[i] === 'e' || q[i] === 'E') && (isDigit(q[i + 1]) || ((q[i + 1] === '-' || q[i + 1] === '+') && isDigit(q[i + 2])))) {
          i += 2;
          while (isDigit(q[i])) i++;
        }
      }
      out.push({ k: 'lit', v: '?' });
    } else if (isIdentStart(c)) {
      const start = i;
      while (i < n && isIdentPart(q[i] as string)) i++;
      const w = q.slice(start, i);
      out.push(LITERAL_WORDS.has(w.toUpperCase()) ? { k: 'lit', v: '?' } : { k: 'word', v: w });
    } else {
      const op = MULTI_OPS.find((o) => q.startsWith(o, i));
      if (op !== undefined) {
        out.push({ k: 'punct', v: op });
        i += op.length;
      } else {
        out.push({ k: c === '?' ? 'lit' : 'punct', v: c });
        i++;
      }
    }
  }
  return out;
}

/** `( ? , ? , ? )` → `( ? )`, then runs of `( ? ) , ( ? )` → `( ? )`. */
function group(toks: Tok[]): Tok[] {
  const out: Tok[] = [];
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i] as Tok;
    if (t.v === '(' && t.k === 'punct') {
      let j = i + 1;
      let onlyLits = true;
      let any = false;
      while (j < toks.length && !(toks[j]?.k === 'punct' && toks[j]?.v === ')')) {
        const u = toks[j] as Tok;
        if (u.k === 'lit') any = true;
        else if (!(u.k === 'punct' && u.v === ',')) {
          onlyLits = false;
          break;
        }
        j++;
      }
      if (onlyLits && any && j < toks.length) {
        // A repeated group (`VALUES (?), (?)`) folds into the previous one.
        const a = out[out.length - 1];
        const b = out[out.length - 2];
        const c = out[out.length - 3];
        const e = out[out.length - 4];
        if (a?.v === ',' && b?.v === ')' && c?.v === '?' && e?.v === '(') out.pop();
        else out.push({ k: 'punct', v: '(' }, { k: 'lit', v: '?' }, { k: 'punct', v: ')' });
        i = j;
        continue;
      }
    }
    out.push(t);
  }
  return out;
}

function render(toks: readonly Tok[]): string {
  let s = '';
  for (const t of toks) {
    if (s === '') s = t.v;
    else if (t.v === ',' || t.v === ';') s += t.v;
    else s += ` ${t.v}`;
  }
  return s.endsWith(';') ? s.slice(0, -1) : s;
}

export function obfuscateSql(query: string): string {
  return render(group(tokenize(query)));
}
