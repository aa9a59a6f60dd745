// A fixed system policy for unit tests, independent of what config/policy.yaml ships with.
import { parsePolicy, type Policy } from '../../../shared/config/policy.js';
import { parseProjectConfig, type ProjectConfig } from '../../../shared/config/project-config.js';

export const TEST_POLICY_YAML = `
caps: { cpu: "16", memory: 32Gi, pods: 40 }
defaults: { cpu: "2", memory: 4Gi, pods: 10 }
container:
  defaultRequest: { cpu: 100m, memory: 256Mi }
  defaultLimit: { cpu: "1", memory: 1Gi }
deprovision: retain
groupPrefix: "gerrit:"
artifactRepository:
  endpoint: minio.seakeeper-system.svc:9000
  bucket: seakeeper-artifacts
  insecure: true
  secretName: seakeeper-artifacts
`;

function parse(text: string): Policy {
  const result = parsePolicy(text, 'test-policy.yaml');
  if (!result.ok) throw new Error(`test policy is invalid: ${JSON.stringify(result.problems)}`);
  return result.policy;
}

export const testPolicy: Policy = parse(TEST_POLICY_YAML);
export const deletingPolicy: Policy = { ...testPolicy, deprovision: 'delete' };
export const policyWithoutArtifacts: Policy = { ...testPolicy, artifactRepository: undefined };

/** A seakeeper.yaml that must be valid under `policy`, parsed. */
export function projectConfig(text: string, policy: Policy = testPolicy): ProjectConfig {
  const result = parseProjectConfig(text, policy);
  if (!result.ok) throw new Error(`expected a valid seakeeper.yaml: ${JSON.stringify(result.problems)}`);
  return result.config;
}
