# Journey Relay: build, run, test and deploy.
#
# A clean clone needs only Go: every Go tool a target uses comes from the Go
# module proxy. Only `deploy` (and `invoke` with INVOKE_RUNNER=sam) needs the
# AWS SAM CLI, which is not a Go program.
SHELL := /bin/bash
GO ?= go
BIN := bin
FUNCTIONS := ingest flush token

# Lambda runs the functions on arm64 (see template.yaml). Set LAMBDA_ARCH=amd64
# to build for x86_64 functions.
LAMBDA_ARCH ?= arm64
GOFLAGS_LAMBDA := -tags lambda.norpc -trimpath -ldflags "-s -w"
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

FN ?= ingest
EVENT ?= $(firstword $(wildcard events/$(FN)*.json))
FUZZTIME ?= 30s
# sam local invoke needs the SAM CLI and a working Docker engine; otherwise
# `make invoke` runs the bootstrap under the runtime interface emulator.
INVOKE_RUNNER ?= $(shell command -v sam >/dev/null 2>&1 && docker info >/dev/null 2>&1 && echo sam || echo rie)

.PHONY: help build build-IngestFunction build-FlushFunction build-TokenFunction \
	run test bench fuzz invoke lint deploy clean

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-22s %s\n", $$1, $$2}'

build: $(addprefix $(BIN)/,$(addsuffix /bootstrap,$(FUNCTIONS))) ## Build every function's bootstrap into bin/<fn>/bootstrap (linux, LAMBDA_ARCH)

# FORCE reruns go build every time, because Go's build cache knows what is stale.
$(BIN)/%/bootstrap: FORCE
	CGO_ENABLED=0 GOOS=linux GOARCH=$(LAMBDA_ARCH) $(GO) build $(GOFLAGS_LAMBDA) -o $@ ./functions/$*

# sam build calls these targets (BuildMethod: makefile) with ARTIFACTS_DIR set.
build-IngestFunction: $(BIN)/ingest/bootstrap ## SAM build hook: copy ingest's bootstrap into ARTIFACTS_DIR
	cp $< $(ARTIFACTS_DIR)/bootstrap

build-FlushFunction: $(BIN)/flush/bootstrap ## SAM build hook: copy flush's bootstrap into ARTIFACTS_DIR
	cp $< $(ARTIFACTS_DIR)/bootstrap

build-TokenFunction: $(BIN)/token/bootstrap ## SAM build hook: copy token's bootstrap into ARTIFACTS_DIR
	cp $< $(ARTIFACTS_DIR)/bootstrap

run: ## Start the local stack on 127.0.0.1 (HTTP API on :3000) and replay the sample traffic
	$(GO) run ./infra/cmd/relay-local

test: ## Run every test: unit, emulator (kumo, RIE), simulator and local stack tests
	$(GO) vet ./...
	$(GO) test -count=1 ./...

bench: ## Run every benchmark with allocation counts
	$(GO) test -run '^$$' -bench . -benchmem ./...

fuzz: ## Run each fuzz target for FUZZTIME (default 30s)
	@set -euo pipefail; \
	$(GO) test -list '^Fuzz' ./... | awk '/^Fuzz/ {names = names " " $$1} /^ok / {if (names != "") print $$2 names; names = ""}' | \
	while read -r pkg targets; do \
		for target in $$targets; do \
			echo "fuzz $$pkg $$target"; \
			$(GO) test -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) $$pkg; \
		done; \
	done

invoke: ## Invoke one function with an event against local emulators: make invoke FN=ingest EVENT=events/<file>.json
	@test -n "$(EVENT)" || { echo "invoke: no events/$(FN)*.json; set EVENT=<file>" >&2; exit 2; }
	$(GO) run ./infra/cmd/relay-local -invoke $(FN) -event $(EVENT) -runner $(INVOKE_RUNNER)

lint: ## Run go vet and staticcheck
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

deploy: ## Build with SAM and deploy interactively (needs the AWS SAM CLI and credentials)
	@command -v sam >/dev/null 2>&1 || { echo "deploy: the AWS SAM CLI (sam) is not installed; see docs/deploying.md" >&2; exit 1; }
	sam build
	sam deploy --guided

clean: ## Remove build output
	rm -rf $(BIN) .aws-sam

FORCE:

# The load and fault matrix is not part of `make test`: it runs for about 20
# minutes. SCENARIO is one of steady, burst, outage, storm, crash, retries,
# token, or all.
SCENARIO ?= all
.PHONY: load
load: ## Drive the local stack with simulated devices and faults: make load SCENARIO=steady
	$(GO) run ./infra/cmd/relay-load -scenario $(SCENARIO)
