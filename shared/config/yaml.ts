// Untrusted YAML in, plain data or located problems out. Every document Seakeeper reads from a project
// (seakeeper.yaml, workflow files) or from config/ goes through here: a size limit checked before parsing,
// YAML 1.2 core schema only (no custom tags, no `<<` merge keys), duplicate keys rejected, aliases limited
// (billion laughs), then validation against a JSON Schema. Every problem names its file, its place in the
// document as a JSON pointer and as line:column, and the rule it broke, so a human can fix it in one go.
// Inside `[…]` and `{…}` indentation does not matter, as in libyaml (go-yaml, so kubectl and the argo CLI):
// `args: ["` … `"]` closing at the key's column, which Argo's own examples write, is read as they read it.
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import {
  Composer,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  Lexer,
  LineCounter,
  Parser,
  type Document,
  type Node as YamlNode,
  type YAMLError,
  YAMLParseError,
} from 'yaml';
import { PermanentError } from '../errors.js';

/** One thing wrong with a document, and where. */
export interface ConfigProblem {
  /** The file as a human knows it, e.g. `seakeeper.yaml` or `config/policy.yaml`. */
  readonly file: string;
  /** JSON pointer (RFC 6901) into the document; `''` is the whole document. */
  readonly path: string;
  /** 1-based. */
  readonly line: number;
  /** 1-based. */
  readonly column: number;
  /** Machine-readable name of the rule: a JSON-Schema keyword (`additionalProperties`, `type`, …) or one of ours. */
  readonly rule: string;
  /** For a human; quotes any text taken from the document. */
  readonly message: string;
}

/** Rules of our own, besides the JSON-Schema keywords. */
export const RULES = {
  maxSize: 'max-size',
  syntax: 'yaml-syntax',
  duplicateKey: 'duplicate-key',
  aliasLimit: 'yaml-alias-limit',
  alias: 'yaml-alias',
  tag: 'yaml-tag',
  tooDeep: 'yaml-too-deep',
  multipleDocuments: 'yaml-multiple-documents',
  complexKey: 'yaml-key',
  empty: 'empty-document',
} as const;

export interface YamlLimits {
  /** Documents larger than this (UTF-8 bytes) are refused before parsing. */
  readonly maxBytes: number;
  /** yaml's `maxAliasCount`: how much alias expansion a document may cause (0 forbids aliases). */
  readonly maxAliasCount: number;
  /** At most this many problems are reported per document. */
  readonly maxProblems: number;
}

export const DEFAULT_YAML_LIMITS: YamlLimits = { maxBytes: 256 * 1024, maxAliasCount: 50, maxProblems: 50 };

/** A parsed document: its data, and a way back from a JSON pointer to where it was written. */
export interface ParsedYaml {
  readonly file: string;
  readonly value: unknown;
  /** Line and column of the node at `pointer` (of its key with `at: 'key'`), or of its nearest ancestor. */
  locate(pointer: string, at?: 'key' | 'value'): { line: number; column: number };
}

export type YamlResult = { ok: true; document: ParsedYaml } | { ok: false; problems: ConfigProblem[] };

/** Parses one untrusted YAML document. Never throws on bad input: every failure is a located problem. */
export function parseYaml(text: string, file: string, limits: YamlLimits = DEFAULT_YAML_LIMITS): YamlResult {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > limits.maxBytes) {
    return fail({
      file,
      path: '',
      line: 1,
      column: 1,
      rule: RULES.maxSize,
      message: `the file is ${formatBytes(bytes)}; at most ${formatBytes(limits.maxBytes)} is accepted`,
    });
  }

  const lineCounter = new LineCounter();
  const position = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return { line: Math.max(line, 1), column: Math.max(col, 1) };
  };
  let doc: Document.Parsed;
  try {
    doc = parseOneDocument(text, lineCounter);
  } catch (err) {
    return fail({ file, path: '', line: 1, column: 1, rule: RULES.syntax, message: `cannot parse: ${firstLine(err)}` });
  }

  const parseProblems = [...doc.errors, ...doc.warnings].map((e) => yamlErrorProblem(e, text, file, position));
  if (parseProblems.length > 0) return { ok: false, problems: dedupe(parseProblems, limits.maxProblems) };

  const locator = makeLocator(doc, position);
  const keyProblems = complexKeys(doc.contents, limits.maxProblems).map((node) => ({
    file,
    ...position(node.range?.[0] ?? 0),
    path: '',
    rule: RULES.complexKey,
    message: 'mapping keys must be plain text, not mappings, lists or aliases',
  }));
  if (keyProblems.length > 0) return { ok: false, problems: keyProblems };

  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) {
    return fail({ file, path: '', line: 1, column: 1, rule: RULES.empty, message: 'the document is empty' });
  }

  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: limits.maxAliasCount });
  } catch (err) {
    const firstAlias = findNode(doc.contents, isAlias);
    const at = position(firstAlias?.range?.[0] ?? 0);
    if (err instanceof RangeError) {
      return fail({ file, path: '', line: 1, column: 1, rule: RULES.tooDeep, message: 'the document is nested too deeply' });
    }
    const excessive = /excessive alias/i.test(String((err as Error)?.message));
    return fail({
      file,
      path: '',
      ...at,
      rule: excessive ? RULES.aliasLimit : RULES.alias,
      message: excessive
        ? `aliases (*name) expand the document too much (limit ${limits.maxAliasCount}): write the values out`
        : `bad alias: ${firstLine(err)}`,
    });
  }
  return { ok: true, document: { file, value, locate: locator } };
}

const fail = (problem: ConfigProblem): YamlResult => ({ ok: false, problems: [problem] });

/** yaml's parseDocument (a second document is a MULTIPLE_DOCS error), with flowLexer's lexer. */
function parseOneDocument(text: string, lineCounter: LineCounter): Document.Parsed {
  const parser = new Parser(lineCounter.addNewLine);
  const lexer = flowLexer();
  const composer = new Composer({ uniqueKeys: true, merge: false, version: '1.2' });
  function* tokens() {
    lineCounter.addNewLine(0); // as Parser.parse does: line 1 starts at 0
    for (const lexeme of lexer.lex(text)) yield* parser.next(lexeme);
    yield* parser.end();
  }
  let doc: Document.Parsed | undefined;
  for (const next of composer.compose(tokens(), true, text.length)) {
    if (!doc) {
      doc = next;
    } else {
      doc.errors.push(new YAMLParseError([next.range[0], next.range[1]], 'MULTIPLE_DOCS', 'Source contains multiple documents'));
      break;
    }
  }
  return doc!;
}

/**
 * yaml's Lexer, except that inside a flow collection (`[…]`, `{…}`) a line may be indented less than the
 * block around it, as libyaml allows: YAML 1.2 wants it indented more, and yaml would end the collection there
 * and misparse the rest. Only the lexer's indentation bound is lifted while in a collection; a `---` or `...`
 * at the start of a line still ends it (an error, as in libyaml). yaml has no option for this: its
 * parseFlowCollection and continueScalar (private, yaml 2.x) compare a line's indentation with indentNext, so
 * indentNext is 0 while the lexer is inside the collection, and restored after it.
 */
function flowLexer(): Lexer {
  const lexer = new Lexer();
  const internals = lexer as unknown as { indentNext: number; parseFlowCollection: () => Generator<string, string> };
  const parseFlowCollection = internals.parseFlowCollection;
  if (typeof parseFlowCollection !== 'function' || typeof internals.indentNext !== 'number') {
    throw new Error("yaml's Lexer changed: flowLexer needs parseFlowCollection and indentNext");
  }
  internals.parseFlowCollection = function* (this: typeof internals) {
    const outside = this.indentNext;
    this.indentNext = 0;
    try {
      return yield* parseFlowCollection.call(this);
    } finally {
      this.indentNext = outside;
    }
  };
  return lexer;
}

function yamlErrorProblem(
  error: YAMLError,
  text: string,
  file: string,
  position: (offset: number) => { line: number; column: number },
): ConfigProblem {
  const [start] = error.pos;
  const at = position(start);
  switch (error.code) {
    case 'DUPLICATE_KEY': {
      // yaml marks the key's first character; the key runs to its ':' (or the end of the line).
      const key = (/^[^:\n]*/.exec(text.slice(start, start + 200))?.[0] ?? '').trim().slice(0, 80);
      return { file, path: '', ...at, rule: RULES.duplicateKey, message: `duplicate key ${JSON.stringify(key)}: a key may appear once per mapping` };
    }
    case 'MULTIPLE_DOCS':
      return { file, path: '', ...at, rule: RULES.multipleDocuments, message: 'only one YAML document is allowed (remove the second `---`)' };
    case 'RESOURCE_EXHAUSTION':
      return { file, path: '', ...at, rule: RULES.tooDeep, message: 'the document is nested too deeply' };
    case 'TAG_RESOLVE_FAILED':
      return { file, path: '', ...at, rule: RULES.tag, message: `${firstLine(error)}: custom YAML tags are not allowed` };
    case 'BAD_ALIAS':
      return { file, path: '', ...at, rule: RULES.alias, message: firstLine(error) };
    default:
      return { file, path: '', ...at, rule: RULES.syntax, message: firstLine(error) };
  }
}

/** Keeps the first problem per rule and place (a deep document yields thousands of the same error). */
function dedupe(problems: ConfigProblem[], max: number): ConfigProblem[] {
  const seen = new Set<string>();
  const out: ConfigProblem[] = [];
  let tooDeep = false;
  for (const p of problems) {
    if (p.rule === RULES.tooDeep) {
      if (tooDeep) continue;
      tooDeep = true;
    }
    const key = `${p.rule}:${p.line}:${p.column}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(p);
    if (out.length >= max) break;
  }
  return out;
}

const MAX_WALK_DEPTH = 1000;

/** Map keys that are collections (`? [a, b]: 1`): JavaScript objects cannot hold them faithfully. */
function complexKeys(root: unknown, max: number): YamlNode[] {
  const found: YamlNode[] = [];
  const stack: Array<{ node: unknown; depth: number }> = [{ node: root, depth: 0 }];
  while (stack.length > 0 && found.length < max) {
    const { node, depth } = stack.pop()!;
    if (depth > MAX_WALK_DEPTH) continue;
    if (isMap(node)) {
      for (const pair of node.items) {
        // Aliases as keys too: `*a : x` could smuggle a collection in as a key.
        if (pair.key !== null && !isScalar(pair.key)) found.push(pair.key as YamlNode);
        stack.push({ node: pair.value, depth: depth + 1 });
      }
    } else if (isSeq(node)) {
      for (const item of node.items) stack.push({ node: item, depth: depth + 1 });
    }
  }
  return found;
}

function findNode<T extends YamlNode>(root: unknown, test: (n: unknown) => n is T): T | undefined {
  const stack: Array<{ node: unknown; depth: number }> = [{ node: root, depth: 0 }];
  while (stack.length > 0) {
    const { node, depth } = stack.pop()!;
    if (test(node)) return node;
    if (depth > MAX_WALK_DEPTH) continue;
    if (isMap(node)) for (const pair of [...node.items].reverse()) stack.push({ node: pair.value, depth: depth + 1 }, { node: pair.key, depth: depth + 1 });
    else if (isSeq(node)) for (const item of [...node.items].reverse()) stack.push({ node: item, depth: depth + 1 });
  }
  return undefined;
}

/** JSON pointer → its reference tokens (`~1` is `/`, `~0` is `~`). */
export function pointerTokens(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** Reference tokens → a JSON pointer. */
export function toPointer(tokens: readonly (string | number)[]): string {
  return tokens.map((t) => `/${String(t).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

function makeLocator(doc: Document.Parsed, position: (offset: number) => { line: number; column: number }) {
  return (pointer: string, at: 'key' | 'value' = 'value') => {
    let node: unknown = doc.contents;
    let offset = (doc.contents as YamlNode | null)?.range?.[0] ?? 0;
    const tokens = pointerTokens(pointer);
    for (const [i, token] of tokens.entries()) {
      if (isAlias(node)) node = node.resolve(doc);
      const last = i === tokens.length - 1;
      if (isMap(node)) {
        const pair = node.items.findLast((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === token);
        if (!pair) break;
        const keyOffset = (pair.key as YamlNode).range?.[0];
        const value = pair.value as YamlNode | null;
        const valueOffset = value?.range?.[0];
        if (last && at === 'key') {
          offset = keyOffset ?? offset;
        } else {
          // `key:` with nothing after it has an empty value node positioned at the end of the line: point at the key.
          offset = value && !(isScalar(value) && value.value === null) ? (valueOffset ?? keyOffset ?? offset) : (keyOffset ?? offset);
        }
        node = value;
      } else if (isSeq(node)) {
        const item = node.items[Number(token)] as YamlNode | undefined;
        if (!/^\d+$/.test(token) || !item) break;
        offset = item.range?.[0] ?? offset;
        node = item;
      } else {
        break;
      }
    }
    return position(offset);
  };
}

// ---- JSON Schema validation ----

// strict, except `required` inside oneOf branches naming properties declared beside the oneOf.
const ajv = new Ajv2020({ allErrors: true, verbose: true, strict: true, strictRequired: false, allowUnionTypes: true });

/** Compiles a JSON Schema (draft 2020-12) once; schemas are looked up by `$id` after the first compile. */
export function compileSchema(schema: unknown): ValidateFunction {
  const id = (schema as { $id?: unknown } | null)?.$id;
  if (typeof id === 'string') {
    const existing = ajv.getSchema(id);
    if (existing) return existing;
  }
  return ajv.compile(schema as object);
}

/** Validates a parsed document; every error located and worded for a human. */
export function schemaProblems(validate: ValidateFunction, document: ParsedYaml, maxProblems = DEFAULT_YAML_LIMITS.maxProblems): ConfigProblem[] {
  if (validate(document.value)) return [];
  const errors = validate.errors ?? [];
  const problems: ConfigProblem[] = [];
  const seen = new Set<string>();
  for (const error of errors) {
    const problem = describeSchemaError(error, document);
    if (!problem) continue;
    const key = `${problem.path}|${problem.rule}|${problem.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push(problem);
    if (problems.length >= maxProblems) break;
  }
  return problems.sort(byPosition);
}

/** Document order. */
export const byPosition = (a: ConfigProblem, b: ConfigProblem): number => a.line - b.line || a.column - b.column;

const TYPE_NAMES: Readonly<Record<string, string>> = {
  object: 'a mapping (key: value)',
  array: 'a list',
  string: 'text',
  number: 'a number',
  integer: 'a whole number',
  boolean: 'true or false',
  null: 'empty',
};

function typeOf(value: unknown): string {
  if (value === null || value === undefined) return 'empty';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'number') return Number.isInteger(value) ? 'a whole number' : 'a number';
  if (typeof value === 'boolean') return 'true or false';
  return 'text';
}

/** A value from the document, quoted and cut short for a message. */
export function quote(value: unknown, max = 60): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
  const cut = text.length > max ? `${text.slice(0, max)}…` : text;
  return JSON.stringify(cut);
}

function describeSchemaError(error: ErrorObject, document: ParsedYaml): ConfigProblem | undefined {
  const schema = (error.parentSchema ?? {}) as { description?: string; properties?: Record<string, unknown> };
  const base = { file: document.file, rule: error.keyword };
  const at = (path: string, where: 'key' | 'value' = 'value') => ({ path, ...document.locate(path, where) });
  const params = error.params as Record<string, unknown>;

  // A key that fails `propertyNames`: ajv reports the inner failure with `propertyName` set, then a summary.
  if (error.keyword === 'propertyNames') return undefined;
  // Failures inside the branches of oneOf/anyOf are noise; the oneOf/anyOf error itself says what is wanted.
  if (/\/(?:oneOf|anyOf)\/\d+\//.test(error.schemaPath)) return undefined;
  if (error.propertyName !== undefined) {
    const path = toPointer([...pointerTokens(error.instancePath), error.propertyName]);
    const what = schema.description ? `is not ${schema.description}` : (error.message ?? 'is not allowed');
    return { ...base, ...at(path, 'key'), message: `key ${quote(error.propertyName)} ${what}` };
  }

  switch (error.keyword) {
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      const allowed = Object.keys(schema.properties ?? {});
      const hint = allowed.length > 0 ? `; allowed here: ${allowed.join(', ')}` : '';
      return { ...base, ...at(toPointer([...pointerTokens(error.instancePath), key]), 'key'), message: `unknown key ${quote(key)}${hint}` };
    }
    case 'required':
      return { ...base, ...at(error.instancePath), message: `missing required key ${quote(params.missingProperty)}` };
    case 'type': {
      const wanted = String(params.type)
        .split(',')
        .map((t) => TYPE_NAMES[t] ?? t)
        .join(' or ');
      return { ...base, ...at(error.instancePath), message: `must be ${wanted}, not ${typeOf(error.data)}` };
    }
    case 'pattern':
      return {
        ...base,
        ...at(error.instancePath),
        message: `${quote(error.data)} is not ${schema.description ?? `matching ${String(params.pattern)}`}`,
      };
    case 'enum':
      return {
        ...base,
        ...at(error.instancePath),
        message: `${quote(error.data)} is not one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`,
      };
    case 'uniqueItems':
      return {
        ...base,
        // ajv scans from the end: of the two equal items, the later one is the duplicate.
        ...at(toPointer([...pointerTokens(error.instancePath), String(Math.max(Number(params.i), Number(params.j)))])),
        message: `${quote((error.data as unknown[])[Number(params.i)])} is listed twice`,
      };
    case 'maxLength':
    case 'minLength':
      return { ...base, ...at(error.instancePath), message: `${quote(error.data)} ${error.message ?? ''}`.trim() };
    case 'maxItems':
      return { ...base, ...at(error.instancePath), message: `at most ${String(params.limit)} entries are allowed` };
    case 'maxProperties':
      return { ...base, ...at(error.instancePath), message: `at most ${String(params.limit)} keys are allowed` };
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return { ...base, ...at(error.instancePath), message: `${quote(error.data)} ${error.message ?? ''}`.trim() };
    case 'oneOf':
    case 'anyOf':
      return { ...base, ...at(error.instancePath), message: schema.description ? `must be ${schema.description}` : (error.message ?? '') };
    default:
      return { ...base, ...at(error.instancePath), message: error.message ?? `breaks the rule ${error.keyword}` };
  }
}

// ---- presenting problems ----

/** `file:line:column: /path: message [rule]`, one line, for logs and review messages. */
export function formatProblem(p: ConfigProblem): string {
  const where = p.path === '' ? '' : ` ${p.path}:`;
  return `${p.file}:${p.line}:${p.column}:${where} ${p.message} [${p.rule}]`;
}

/** A configuration that cannot be used as written: permanent (retrying cannot fix it), with every problem. */
export class ConfigInvalidError extends PermanentError {
  readonly problems: readonly ConfigProblem[];

  constructor(summary: string, problems: readonly ConfigProblem[]) {
    const shown = problems.slice(0, 5).map(formatProblem).join('; ');
    const more = problems.length > 5 ? `; and ${problems.length - 5} more` : '';
    super(`${summary}: ${shown}${more}`);
    this.problems = problems;
  }
}

function firstLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n')[0] ?? message;
}

function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(n % 1024 === 0 ? 0 : 1)} KiB`;
  return `${n} bytes`;
}
