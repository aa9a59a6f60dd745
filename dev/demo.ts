// `make dev`'s demo: a parent project whose webhooks.config points the rig's Gerrit at the local gerrit-webhook,
// and a child project with a seakeeper.yaml and a check Workflow. Re-running is safe: the projects are kept, the
// configuration is pushed again (the webhook's secret is new each run).
import { ConflictError } from '../shared/errors.js';
import { CONFIG_REF } from '../shared/gerrit/refs.js';
import type { GerritConnection } from '../shared/gerrit/rest.js';
import { safeText } from '../shared/runs/workflow.js';
import { createProject, pushDirect } from './gerrit-chores.js';

export const DEMO_PARENT = 'seakeeper-dev';
export const DEMO_PROJECT = 'seakeeper-dev/hello';

const SEAKEEPER_YAML = `# Which pipelines run which Workflow (a file beside this one on refs/meta/config).
pipelines:
  check: { workflow: check.yaml }
resources: { cpu: "2", memory: 4Gi, pods: 5 }
owners: [Administrators]
`;

// The rig runs it for real (Argo's controller, fake nodes); its outcome hook (README, "The rig") lets a change
// choose how the test ends: "[fail]" in the subject makes it fail. The subject parameter is in its safe form
// (README, "Change text"), where "[fail]" reads "%5Bfail%5D".
export const FAIL_MARK = '[fail]';

const CHECK_YAML = `apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: check-
spec:
  entrypoint: test
  templates:
    - name: test
      metadata:
        annotations:
          rig.seakeeper.test/exit-code: "{{=sprig.contains('${safeText(FAIL_MARK)}', workflow.parameters.subject) ? '1' : '0'}}"
          rig.seakeeper.test/message: "the demo test failed, as the subject asked"
          rig.seakeeper.test/duration: "3s"
      container:
        image: docker.io/library/alpine:3.20
        command: [echo]
        args: ["testing", "{{workflow.parameters.revision}}"]
`;

async function ensureProject(admin: GerritConnection, name: string, parent: string): Promise<void> {
  try {
    await createProject(admin, name, parent);
  } catch (err) {
    if (!(err instanceof ConflictError)) throw err;
  }
}

export async function setUpDemo(admin: GerritConnection, webhookUrl: string): Promise<void> {
  await ensureProject(admin, DEMO_PARENT, 'All-Projects');
  await pushDirect(
    admin,
    DEMO_PARENT,
    CONFIG_REF,
    { 'webhooks.config': `[remote "seakeeper-dev"]\n\turl = ${webhookUrl}\n\tmaxTries = 5\n\tretryInterval = 1000\n` },
    'Send this tree\'s events to the local gerrit-webhook',
  );
  await ensureProject(admin, DEMO_PROJECT, DEMO_PARENT);
  await pushDirect(admin, DEMO_PROJECT, CONFIG_REF, { 'seakeeper.yaml': SEAKEEPER_YAML, 'check.yaml': CHECK_YAML }, 'Define CI with Seakeeper');
}
