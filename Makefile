# Seakeeper. `make dev` runs the local stack, `make test` runs every test (starting the rig when it is down).
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
# Node 24 comes from the npm package `node`: everything below runs with node_modules/.bin first.
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)

NODE_MODULES := node_modules/.package-lock.json

.PHONY: help prerequisites install build typecheck layers test test-unit test-integration rig-up rig-down rig-status dev clean reconcile \
	image kind-up kind-down deploy undeploy manifests-check docker-check

help:
	@echo "make dev               start the rig and serve every function locally"
	@echo "make test              typecheck, layer check, unit and integration tests (starts the rig when it is down)"
	@echo "make test-unit         typecheck, layer check and unit tests only: no servers"
	@echo "make layers            check that imports point down the layers (docs/architecture.md)"
	@echo "make test-integration  integration tests against the rig"
	@echo "make rig-up | rig-down | rig-status"
	@echo "make build             compile to dist/"
	@echo "make reconcile         one reconcile pass of every project against the rig (npm run reconcile elsewhere)"
	@echo "make manifests-check   render knative/ and its overlays, strict server-side dry-run on the rig, RBAC/trigger checks"
	@echo "With a Docker engine:  make image | kind-up | deploy | undeploy | kind-down"

$(NODE_MODULES): package.json package-lock.json
	@bash dev/install.sh
	@touch $@

install: $(NODE_MODULES)

prerequisites:
	@bash test/rig/prerequisites.sh

build: install
	npm run --silent build

typecheck: install
	npm run --silent typecheck

# Imports point down the layers of docs/architecture.md (.dependency-cruiser.cjs states them).
layers: install
	depcruise --config .dependency-cruiser.cjs shared functions sources dev

test-unit: install typecheck layers
	tsx test/run.ts unit

# Integration files marked `// rig: parallel` two at a time, after the others one by one (test/run.ts's header).
test-integration: install rig-up
	tsx test/run.ts integration --jobs=2

# The rig starts while the unit files run (two at a time); the integration files start once it is up, beside
# the unit files still to run, and run as in test-integration; the typecheck runs beside them, counted as one test. The layer check is one of the unit
# files (test/unit/layers.test.ts).
test: install prerequisites
	tsx test/run.ts unit integration --jobs=2 --start-rig --typecheck

rig-up: prerequisites
	@bash test/rig/rig.sh up

rig-down:
	@bash test/rig/rig.sh down

rig-status:
	@bash test/rig/rig.sh status

dev: install rig-up
	set -a && . .rig/env && set +a && tsx dev/stack.ts

clean:
	rm -rf dist

# One reconcile pass against the running rig (make rig-up), as `npm run reconcile` does against any Gerrit and cluster.
reconcile: install
	set -a && . .rig/env && set +a && tsx shared/provisioning/reconcile-cli.ts

# ---- Deployment (knative/) ----
# `make manifests-check` needs only the rig; the targets after it need a Docker engine (and kind for kind-*),
# which the rig's machines do not have: they stop with a message saying so.

manifests-check: install rig-up
	tsx test/run.ts integration --filter=manifests

IMAGE ?= kind.local/seakeeper:dev
KIND_CLUSTER ?= seakeeper
# Pinned versions of what kind-up installs; override on the command line to try others.
KIND_NODE_IMAGE ?= kindest/node:v1.33.1
KNATIVE_VERSION ?= knative-v1.23.0
ARGO_VERSION ?= v3.7.18
KNATIVE_SERVING := https://github.com/knative/serving/releases/download/$(KNATIVE_VERSION)
KNATIVE_KOURIER := https://github.com/knative/net-kourier/releases/download/$(KNATIVE_VERSION)
KNATIVE_EVENTING := https://github.com/knative/eventing/releases/download/$(KNATIVE_VERSION)
ARGO_INSTALL := https://github.com/argoproj/argo-workflows/releases/download/$(ARGO_VERSION)/install.yaml
KIND_CONTEXT := kind-$(KIND_CLUSTER)
KUBECTL_KIND := kubectl --context $(KIND_CONTEXT)

docker-check:
	@docker info >/dev/null 2>&1 || { \
	  echo "make $(MAKECMDGOALS): needs a running Docker engine ('docker info' failed)." >&2; \
	  echo "Nothing was changed. Without Docker, 'make dev' and 'make test' still work (see README)." >&2; \
	  exit 1; }

# The one image every function runs (Dockerfile); loaded into the kind cluster when it is up.
image: docker-check
	docker build -t $(IMAGE) .
	@if command -v kind >/dev/null && kind get clusters 2>/dev/null | grep -qx '$(KIND_CLUSTER)'; then \
	  kind load docker-image $(IMAGE) --name $(KIND_CLUSTER); \
	else echo "kind cluster $(KIND_CLUSTER) is not up: image built, not loaded (make kind-up, then make image)"; fi

# A kind cluster with Knative Serving (Kourier ingress), Knative Eventing (in-memory channel, MT broker) and
# Argo Workflows, each at the pinned version above.
kind-up: docker-check
	@command -v kind >/dev/null || { echo "make kind-up: needs kind (https://kind.sigs.k8s.io)" >&2; exit 1; }
	kind get clusters 2>/dev/null | grep -qx '$(KIND_CLUSTER)' || kind create cluster --name $(KIND_CLUSTER) --image $(KIND_NODE_IMAGE) --wait 120s
	$(KUBECTL_KIND) apply -f $(KNATIVE_SERVING)/serving-crds.yaml
	$(KUBECTL_KIND) apply -f $(KNATIVE_SERVING)/serving-core.yaml
	$(KUBECTL_KIND) apply -f $(KNATIVE_KOURIER)/kourier.yaml
	$(KUBECTL_KIND) patch configmap/config-network -n knative-serving --type merge \
	  -p '{"data":{"ingress-class":"kourier.ingress.networking.knative.dev"}}'
	$(KUBECTL_KIND) apply -f $(KNATIVE_EVENTING)/eventing-crds.yaml
	$(KUBECTL_KIND) apply -f $(KNATIVE_EVENTING)/eventing-core.yaml
	$(KUBECTL_KIND) apply -f $(KNATIVE_EVENTING)/in-memory-channel.yaml
	$(KUBECTL_KIND) apply -f $(KNATIVE_EVENTING)/mt-channel-broker.yaml
	$(KUBECTL_KIND) create namespace argo --dry-run=client -o yaml | $(KUBECTL_KIND) apply -f -
	$(KUBECTL_KIND) apply --server-side -n argo -f $(ARGO_INSTALL)
	$(KUBECTL_KIND) wait --for=condition=Available deployment --all -n knative-serving --timeout=300s
	$(KUBECTL_KIND) wait --for=condition=Available deployment --all -n knative-eventing --timeout=300s
	$(KUBECTL_KIND) wait --for=condition=Available deployment --all -n argo --timeout=300s
	@echo "kind cluster $(KIND_CLUSTER) is up. Next: make image deploy"

kind-down: docker-check
	kind delete cluster --name $(KIND_CLUSTER)

# knative/overlays/kind onto the kind cluster. The Secrets it references are not in the manifests: create
# seakeeper-webhook, seakeeper-gerrit-read, seakeeper-gerrit-vote and seakeeper-gerrit-ssh first (README).
deploy: docker-check
	$(KUBECTL_KIND) apply --server-side -k knative/overlays/kind
	@for s in seakeeper-webhook seakeeper-gerrit-read seakeeper-gerrit-vote seakeeper-gerrit-ssh; do \
	  $(KUBECTL_KIND) get secret -n seakeeper-system $$s >/dev/null 2>&1 || echo "warning: Secret seakeeper-system/$$s is missing (see README, 'Deploying')"; done

undeploy: docker-check
	$(KUBECTL_KIND) delete -k knative/overlays/kind --ignore-not-found
