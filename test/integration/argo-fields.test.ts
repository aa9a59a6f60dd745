// config/argo-fields.json is Argo's own schema, reduced: made again here from the Go module at the Argo version
// the rig runs and the deployment installs (the Makefile's ARGO_VERSION), through the module proxy, it must be
// what is committed. A new Argo version means `ARGO_VERSION=vX npm run argo-schema`.
// rig: parallel (test/run.ts): reads Argo's module only, nothing on the rig
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { argoFieldsText, DEFAULT_ARGO_VERSION, FIELDS_FILE } from '../../dev/argo-schema.js';

test('the committed field list is the one Argo\'s module at the Makefile\'s version gives', () => {
  const makefile = readFileSync(new URL('../../Makefile', import.meta.url), 'utf8');
  assert.is(/^ARGO_VERSION \?= (\S+)$/m.exec(makefile)?.[1], DEFAULT_ARGO_VERSION);
  assert.ok(readFileSync(FIELDS_FILE, 'utf8') === argoFieldsText(DEFAULT_ARGO_VERSION), 'config/argo-fields.json is stale: run npm run argo-schema');
});

test.run();
