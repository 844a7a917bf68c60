# Journey Relay: build, run, test and deploy.
SHELL := /bin/bash
GO ?= go
BIN := bin
FUNCTIONS := ingest flush token

.PHONY: help test
help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

test: ## Run every test: unit, emulator (kumo, RIE) and simulator tests
	$(GO) vet ./...
	$(GO) test -count=1 ./...
