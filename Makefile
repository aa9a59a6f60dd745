# Seakeeper. `make dev` runs the local stack, `make test` runs every test (starting the rig when it is down).
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
# Node 24 comes from the npm package `node`: everything below runs with node_modules/.bin first.
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)

NODE_MODULES := node_modules/.package-lock.json

.PHONY: help prerequisites install build typecheck test test-unit test-integration rig-up rig-down rig-status dev clean reconcile

help:
	@echo "make dev               start the rig and serve every function locally"
	@echo "make test              typecheck, unit and integration tests (starts the rig when it is down)"
	@echo "make test-unit         unit tests only: no servers"
	@echo "make test-integration  integration tests against the rig"
	@echo "make rig-up | rig-down | rig-status"
	@echo "make build             compile to dist/"
	@echo "make reconcile         one reconcile pass of every project against the rig (npm run reconcile elsewhere)"

$(NODE_MODULES): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

install: $(NODE_MODULES)

prerequisites:
	@bash test/rig/prerequisites.sh

build: install
	npm run --silent build

typecheck: install
	npm run --silent typecheck

test-unit: install typecheck
	tsx test/run.ts unit

test-integration: install rig-up
	tsx test/run.ts integration

test: install typecheck rig-up
	tsx test/run.ts unit integration

rig-up: prerequisites
	@bash test/rig/rig.sh up

rig-down:
	@bash test/rig/rig.sh down

rig-status:
	@bash test/rig/rig.sh status

dev: install build rig-up
	set -a && . .rig/env && set +a && tsx dev/stack.ts

clean:
	rm -rf dist

# One reconcile pass against the running rig (make rig-up), as `npm run reconcile` does against any Gerrit and cluster.
reconcile: install
	set -a && . .rig/env && set +a && tsx shared/provisioning/reconcile-cli.ts
