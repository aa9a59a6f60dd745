// The import rule of docs/architecture.md ("Layers"), checked by `make layers` (part of `make test`): a module
// imports its own folder and the layers below it, never one above. Entry points (functions/, sources/, dev/)
// sit on top; nothing that ships imports test/ or bench/.
const LAYERS = [
  { name: 'base', path: '^shared/[^/]+\\.ts$' },
  { name: 'adapters', path: '^shared/(k8s|gerrit)/' },
  { name: 'config', path: '^shared/config/' },
  { name: 'events', path: '^shared/events/' },
  { name: 'provisioning', path: '^shared/provisioning/' },
  { name: 'runs', path: '^shared/runs/' },
  { name: 'reporting', path: '^shared/reporting/' },
  { name: 'pipelines', path: '^shared/pipelines/' },
  // The status page reads queues (pipelines/) and runs; nothing that handles events imports it.
  { name: 'status', path: '^shared/status/' },
  // The capacity report reads runs (runs/) for operators; nothing that handles events imports it.
  { name: 'capacity', path: '^shared/capacity/' },
  { name: 'entry points', path: '^(functions|sources|dev)/' },
  // `npm run import-zuul`, an operator's tool: it reads config/ and pushes with dev/'s Gerrit chores, so it sits
  // on top; nothing that ships imports it.
  { name: 'zuul', path: '^shared/zuul/' },
];

const upward = LAYERS.slice(0, -1).map((layer, i) => ({
  name: `${layer.name}-imports-up`,
  comment: `${layer.name} may import only ${LAYERS.slice(0, i).map((l) => l.name).join(', ') || 'itself'} (docs/architecture.md, Layers)`,
  severity: 'error',
  from: { path: layer.path },
  to: { path: LAYERS.slice(i + 1).map((l) => `(${l.path})`).join('|') },
}));

module.exports = {
  forbidden: [
    ...upward,
    {
      name: 'adapters-import-each-other',
      comment: 'shared/k8s and shared/gerrit are two adapters side by side: neither knows the other',
      severity: 'error',
      from: { path: '^shared/(k8s|gerrit)/' },
      to: { path: '^shared/(k8s|gerrit)/', pathNot: '^shared/$1/' },
    },
    {
      name: 'shipped-code-imports-tests',
      comment: 'what runs in the image or in make dev imports nothing from test/ or bench/',
      severity: 'error',
      from: { path: '^(shared|functions|sources|dev)/' },
      to: { path: '^(test|bench)/' },
    },
    {
      name: 'no-circular',
      comment: 'a cycle hides which module is the lower one',
      severity: 'error',
      from: { path: '^(shared|functions|sources|dev)/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
