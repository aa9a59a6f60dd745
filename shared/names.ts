// Gerrit project name → Kubernetes namespace name, and the labels and annotations that mark what Seakeeper
// manages. Pure, and stable across releases: changing anything here renames every project's namespace, so
// golden values in test/unit/namespace-name.test.ts pin the scheme.
//
// The scheme:
//   1. A name that is already a tidy DNS label — only a-z, 0-9 and single '-' between them, at most 60
//      characters — becomes `sk-<name>`:                    mediawiki        → sk-mediawiki
//   2. Any other name is folded for readability — Unicode decomposed and accents dropped, lower-cased,
//      every run of other characters turned into one '-', trimmed, cut to 48 characters — and gets a hash
//      suffix: `sk-<folded>--<h>`, where <h> is the first 10 characters of the base32 SHA-256 of the exact
//      original name:                                           mediawiki/core   → sk-mediawiki-core--<h>
//      (`sk--<h>` when nothing readable is left, e.g. a name of only non-Latin letters).
// Why this is collision-free: a rule-1 name never contains "--" and a rule-2 name always does, so the two
// rules cannot meet; two rule-2 names meet only if their 50-bit hashes do (for 10,000 projects, odds below
// one in 10^7), and every real Wikimedia project name is checked by a test. Names that fold to the same
// text ("Foo_Bar", "foo.bar", "foo/bar") therefore still get distinct namespaces. The result is at most 63
// characters, matches [a-z0-9]([-a-z0-9]*[a-z0-9])?, and starts with `sk-`, which keeps project namespaces
// apart from system ones (default, kube-system). The original name is kept in the PROJECT_ANNOTATION.
import { createHash } from 'node:crypto';

export const NAMESPACE_PREFIX = 'sk';
const HASH_CHARS = 10;
export const MAX_LABEL_LENGTH = 63;

/** Standard label: `seakeeper` on everything Seakeeper creates and owns. */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'seakeeper';
/** projectHash(project) on everything Seakeeper creates for a project: selects one project's objects. */
export const PROJECT_HASH_LABEL = 'seakeeper.dev/project-hash';
/** The Gerrit project name, exactly (annotations take any text). */
export const PROJECT_ANNOTATION = 'seakeeper.dev/project';

// Kinds and names that several layers use (the config check, provisioning, the pipelines, reporting).
export const ARGO_API_VERSION = 'argoproj.io/v1alpha1';
export const WORKFLOW_KIND = 'Workflow';
export const WORKFLOW_TEMPLATE_KIND = 'WorkflowTemplate';
export const LEASE_API_VERSION = 'coordination.k8s.io/v1';
export const LEASE_KIND = 'Lease';
/** Standard label: which part of Seakeeper an object belongs to. */
export const COMPONENT_LABEL = 'app.kubernetes.io/component';
/** The ServiceAccount project Workflows run as. */
export const WORKFLOW_SERVICE_ACCOUNT = 'workflow';
/** PriorityClasses in knative/cluster/priorityclasses.yaml: gate > check > periodic. */
export const PRIORITY_CLASSES = { gate: 'seakeeper-gate', check: 'seakeeper-check', periodic: 'seakeeper-periodic' } as const;

const DNS_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const TIDY = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/** True for an RFC 1123 label as Kubernetes wants a namespace name. */
export function isDnsLabel(text: string): boolean {
  return DNS_LABEL.test(text);
}

/**
 * 32 characters of base32 (RFC 4648, lower case) of the SHA-256 of the project name in UTF-8: a valid label
 * value that identifies the project (160 bits).
 */
export function projectHash(project: string): string {
  return base32(createHash('sha256').update(project, 'utf8').digest()).slice(0, 32);
}

/** The namespace of a Gerrit project. Pass Gerrit's canonical project name (no trailing '/' or '.git'). */
export function namespaceFor(project: string): string {
  return readableLabel(NAMESPACE_PREFIX, project);
}

/**
 * The scheme above for any text under any prefix: `<prefix>-<text>` when the text is a tidy DNS label and it
 * fits in 63 characters, else `<prefix>-<folded>--<hash>` (`<prefix>--<hash>` when nothing readable is left).
 * Distinct texts get distinct labels under one prefix. `prefix` is itself a DNS label of at most 50 characters,
 * so that some of the folded text still fits.
 */
export function readableLabel(prefix: string, text: string): string {
  if (!isDnsLabel(prefix) || prefix.length > MAX_LABEL_LENGTH - 3 - HASH_CHARS) throw new RangeError(`${JSON.stringify(prefix)} is not a prefix for a DNS label`);
  if (TIDY.test(text) && prefix.length + 1 + text.length <= MAX_LABEL_LENGTH) return `${prefix}-${text}`;
  const folded = fold(text).slice(0, MAX_LABEL_LENGTH - prefix.length - 3 - HASH_CHARS).replace(/-+$/, '');
  const readable = folded === '' ? prefix : `${prefix}-${folded}`;
  return `${readable}--${projectHash(text).slice(0, HASH_CHARS)}`;
}

/** Readable form: accents dropped, lower case, other runs → '-', trimmed. */
export function fold(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

function base32(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32[(buffer << (5 - bits)) & 31];
  return out;
}
