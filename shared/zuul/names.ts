// Names Seakeeper accepts, made from the names a Zuul layout uses: pipelines (`[a-z0-9-]`, starting with a
// letter, at most 40), WorkflowTemplates (DNS-1123 subdomains, at most 253) and gate queues (DNS-1123 labels).
// Each is deterministic, so converting the same layout twice gives the same names.

import { fold } from '../names.js';

const MAX_PIPELINE = 40;
const MAX_SUBDOMAIN = 253;
const MAX_LABEL = 63;

const trimEnd = (text: string, max: number): string => text.slice(0, max).replace(/[-.]+$/, '');

/** `gate-and-submit-1_43` → `gate-and-submit-1-43`; a name that would start with a digit gets `p-`. */
export function pipelineName(zuulName: string): string {
  const name = fold(zuulName) || 'pipeline';
  return trimEnd(/^[a-z]/.test(name) ? name : `p-${name}`, MAX_PIPELINE);
}

/** A WorkflowTemplate name from a Zuul template or job name: `mediawiki-vagrant-ruby2.7-rake` stays as it is. */
export function workflowTemplateName(zuulName: string): string {
  const segments = zuulName
    .toLowerCase()
    .split('.')
    .map((segment) => fold(segment))
    .filter((segment) => segment !== '');
  return trimEnd(segments.join('.') || 'workflow', MAX_SUBDOMAIN);
}

/** A gate queue name: `mediawiki/core` → `mediawiki-core`. */
export function queueName(text: string): string {
  return trimEnd(fold(text) || 'queue', MAX_LABEL);
}
