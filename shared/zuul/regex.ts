// Zuul v2's regular expressions (Python's `re`) as Seakeeper's triggers read them (JavaScript, flag `u`).
// Zuul matches a branch, and a ref-updated trigger's ref, with re.match, anchored at its start; Seakeeper tests
// a branch or ref pattern anywhere, so a converted pattern is anchored. Zuul searches a comment's whole text, Gerrit's "Patch Set N: …" header
// included; Seakeeper tests the first line after that header (shared/pipelines/triggers.ts), so a pattern
// that spells the header out is reduced to what it asks of that line. Zuul searches an e-mail address with
// re.search, as RegExp.test does, so an e-mail pattern keeps its meaning as it is.

/**
 * Calls `visit` with each character of `pattern` outside escapes and character classes, and the group depth
 * after it (a `(` counts in, a `)` out); stops when `visit` answers false.
 */
function scanGroups(pattern: string, visit: (c: string, i: number, depth: number) => boolean | void): void {
  let depth = 0;
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\') {
      i += 1;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') {
      inClass = true;
      continue;
    }
    if (c === '(') depth += 1;
    else if (c === ')') depth -= 1;
    if (visit(c, i, depth) === false) return;
  }
}

/** The top-level alternatives of a pattern: `a|(b|c)|d` → `a`, `(b|c)`, `d`. */
export function alternatives(pattern: string): string[] {
  const parts: string[] = [];
  let start = 0;
  scanGroups(pattern, (c, i, depth) => {
    if (c === '|' && depth === 0) {
      parts.push(pattern.slice(start, i));
      start = i + 1;
    }
  });
  parts.push(pattern.slice(start));
  return parts;
}

/** Whether `(` at 0 closes at the pattern's last character, so the group spans it all. */
function oneGroup(pattern: string): boolean {
  if (!pattern.startsWith('(') || !pattern.endsWith(')')) return false;
  let spans = true;
  let depth = 0;
  scanGroups(pattern, (c, i, after) => {
    depth = after;
    if (c === ')' && after === 0 && i < pattern.length - 1) return (spans = false);
    return undefined;
  });
  return spans && depth === 0;
}

/** re.match's anchoring made explicit: `wmf/.*` → `^wmf/.*`, `a|b` → `^(?:a|b)`. */
export function anchored(pattern: string): string {
  if (alternatives(pattern).length > 1) return `^(?:${pattern})`;
  return pattern.startsWith('^') ? pattern : `^${pattern}`;
}

/** Characters JavaScript lets a `u` pattern escape; Python lets any punctuation be escaped (`\-`, `\@`). */
const ESCAPABLE = new Set('^$\\.*+?()[]{}|/');

/**
 * Python spellings JavaScript lacks, where one means the same: named groups, `\A` and `\Z`, and escaped
 * punctuation that needs no escape, which flag `u` refuses (`jane\-doe` is `jane-doe`).
 */
function toJavaScript(pattern: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\' && i + 1 < pattern.length) {
      const next = pattern[++i]!;
      if (!inClass && next === 'A') out += '^';
      else if (!inClass && next === 'Z') out += '$';
      else if (/[!-/:-@[-`{-~]/.test(next) && !ESCAPABLE.has(next) && !(inClass && next === '-')) out += next;
      else out += c + next;
      continue;
    }
    if (inClass) inClass = c !== ']';
    else inClass = c === '[';
    out += c;
  }
  return out.replace(/\(\?P</g, '(?<').replace(/\(\?P=(\w+)\)/g, '\\k<$1>');
}

export function compiles(pattern: string, flags = 'u'): boolean {
  try {
    new RegExp(pattern, flags);
    return true;
  } catch {
    return false;
  }
}

export type BranchFilter = { include?: string[]; exclude?: string[] };

/**
 * Zuul's `branch:` (one pattern or several, any matching) as Seakeeper's `branches:`. A lone negative lookahead,
 * `(?!^refs/meta/config|^REL)`, is a list of branches to leave out, and is written so. Undefined: a pattern
 * JavaScript cannot compile (the caller notes it).
 */
export function branchFilter(branch: unknown): BranchFilter | undefined {
  const patterns = (Array.isArray(branch) ? branch : [branch]).filter((p): p is string => typeof p === 'string' && p !== '').map(toJavaScript);
  if (patterns.length === 0) return {};
  const only = patterns[0]!;
  if (patterns.length === 1 && only.startsWith('(?!') && oneGroup(only)) {
    const exclude = alternatives(only.slice(3, -1)).map(anchored);
    return exclude.every((p) => compiles(p)) ? { exclude } : undefined;
  }
  const include = patterns.map(anchored);
  return include.every((p) => compiles(p)) ? { include } : undefined;
}

/**
 * Zuul's `ref:` of a ref-updated trigger as Seakeeper's `refs:`, by the rules of a branch: re.match, one pattern
 * or several, a lone negative lookahead a list to leave out. Both test the full ref name (refs/heads/master,
 * refs/tags/v1), which Gerrit has sent since 2.13 and Seakeeper makes of an older Gerrit's bare branch name.
 */
export const refFilter = (ref: unknown): BranchFilter | undefined => branchFilter(ref);

/** A comment pattern that spells out Gerrit's header: `(?im)^Patch Set \d+:…\n\n\s*recheck\b`. */
const HEADER_PATTERN = /^(?:\(\?[a-z]+\))?\^?Patch Set \\d\+:.*\\n\\n\\s\*(.+)$/s;

/**
 * A Zuul comment pattern as one for the first line of the comment's body (case-insensitive in Seakeeper), and
 * whether that is exactly what Zuul asked; undefined when it does not compile.
 */
export function commentPattern(comment: string): { pattern: string; exact: boolean } | undefined {
  const header = HEADER_PATTERN.exec(comment);
  if (header) {
    const pattern = `^${toJavaScript(header[1]!)}`;
    return compiles(pattern, 'iu') ? { pattern, exact: true } : undefined;
  }
  const pattern = toJavaScript(comment.replace(/^\(\?[a-z]+\)/, ''));
  return compiles(pattern, 'iu') ? { pattern, exact: false } : undefined;
}

/** Leading inline flags that mean nothing for one address matched case-insensitively; `(?x)` does, and stays. */
const EMAIL_FLAGS = /^\(\?[aiLmsu]+\)/;

/**
 * A pattern of Zuul's e-mail filter as an account set's (tested case-insensitively, anywhere in the address, as
 * re.search did); undefined when it does not compile or is longer than the schema allows.
 */
export function emailPattern(pattern: string): string | undefined {
  // An empty pattern matched every address in Zuul; `^` does here (the schema wants one character at least).
  const converted = toJavaScript(pattern.replace(EMAIL_FLAGS, '')) || '^';
  return converted.length <= 500 && compiles(converted, 'iu') ? converted : undefined;
}
