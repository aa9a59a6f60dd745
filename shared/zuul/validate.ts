// The converted files checked with the parsers the functions use: pipelines.yaml with parsePipelines, every
// seakeeper.yaml with parseProjectConfig under the shipped policy with the converted sharedQueues merged in, and
// each project's queue with queueRefusal. Reads config/ (the schemas and the shipped policy).
import { parseDocument } from 'yaml';
import { readConfigFile } from '../config/files.js';
import { parsePipelines } from '../config/pipeline-config.js';
import { parsePolicy, queueRefusal, type Policy } from '../config/policy.js';
import { parseProjectConfig } from '../config/project-config.js';

/** The shipped config/policy.yaml with `sharedQueues` replaced by the snippet's; its text, for parsePolicy. */
export function mergedPolicyText(snippet: string, policyText: string = readConfigFile('policy.yaml')): string {
  const policy = parseDocument(policyText);
  const queues = parseDocument(snippet).get('sharedQueues', true);
  policy.set('sharedQueues', queues);
  return policy.toString({ lineWidth: 0 });
}

const format = (file: string, problems: readonly { path: string; message: string }[]) => problems.map((p) => `${file}: ${p.path || '/'}: ${p.message}`);

/** Every problem with the files, one line each; none when all validate. */
export function validateOutputs(files: ReadonlyMap<string, string>): string[] {
  const problems: string[] = [];
  const pipelines = parsePipelines(files.get('pipelines.yaml') ?? '', 'pipelines.yaml');
  if (!pipelines.ok) problems.push(...format('pipelines.yaml', pipelines.problems));

  const merged = parsePolicy(mergedPolicyText(files.get('policy-shared-queues.yaml') ?? 'sharedQueues: {}\n'));
  if (!merged.ok) return [...problems, ...format('policy-shared-queues.yaml', merged.problems)];
  const policy: Policy = merged.policy;

  for (const [file, text] of files) {
    if (!file.startsWith('projects/')) continue;
    const project = file.slice('projects/'.length, -'/seakeeper.yaml'.length);
    const parsed = parseProjectConfig(text, policy, { file });
    if (!parsed.ok) {
      problems.push(...format(file, parsed.problems));
      continue;
    }
    for (const pipeline of parsed.config.pipelines) {
      const refusal = queueRefusal(project, pipeline.queue, policy);
      if (refusal) problems.push(`${file}: ${pipeline.name}: ${refusal}`);
    }
  }
  return problems;
}
