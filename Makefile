# agentos-sessions: the AgentOS sessions API in Go.
# `make help` lists the targets.

GO ?= go
ADDR ?= 127.0.0.1:7777

.DEFAULT_GOAL := help

.PHONY: help generate build run test lint bench bench-report check-generated compat

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

generate: ## Regenerate gen/ from openapi.yaml
	$(GO) generate ./gen/...

build: ## Build the server binary (pure Go, no cgo) into bin/
	CGO_ENABLED=0 $(GO) build -o bin/agentos-sessions ./cmd/agentos-sessions

run: ## Serve the API on the embedded SQLite default (./agentos.db) at $(ADDR)
	$(GO) run ./cmd/agentos-sessions serve --addr $(ADDR)

test: ## Run the whole test suite against real PostgreSQL and SQLite
	$(GO) test -race -count=1 ./...

lint: ## gofmt, go vet, generated-code drift and the seed compatibility gate
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above need formatting"; exit 1; }
	$(GO) vet ./...
	$(MAKE) --no-print-directory check-generated compat

check-generated: generate ## Fail when gen/ differs from what openapi.yaml generates
	@git diff --exit-code -- gen/ && test -z "$$(git status --porcelain -- gen/)" || { echo "gen/ is stale: run make generate and commit"; exit 1; }

compat: ## Fail on any change to openapi.yaml that breaks clients of the seed document
	$(GO) tool oasdiff breaking compat/seed.openapi.yaml openapi.yaml --fail-on ERR

bench: ## Run the Go benchmarks once
	$(GO) test -run '^$$' -bench . -benchtime 1x ./...

bench-report: build ## Time DELETE /sessions over HTTP against raw SQL and write BENCHMARKS.md (minutes)
	$(GO) run ./cmd/agentos-bench -server bin/agentos-sessions $(BENCH_FLAGS)
