# agentos-sessions: the AgentOS sessions API in Go.
# `make help` lists the targets.

GO ?= go
ADDR ?= 127.0.0.1:7777

.DEFAULT_GOAL := help

.PHONY: help generate build run test lint bench check-generated compat soak soak-replicas reliability

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

SOAK_DURATION ?= 60s
SOAK_RATE ?= 100
SOAK_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test?sslmode=disable

soak: build ## Soak one server on a fresh PostgreSQL schema for $(SOAK_DURATION), then check the ledger
	$(GO) run ./cmd/agentos-soak --server-bin bin/agentos-sessions --replicas 1 \
		--database-url '$(SOAK_DATABASE_URL)' --rate $(SOAK_RATE) --duration $(SOAK_DURATION)

soak-replicas: build ## The same soak round-robin across three server processes sharing one schema
	$(GO) run ./cmd/agentos-soak --server-bin bin/agentos-sessions --replicas 3 \
		--database-url '$(SOAK_DATABASE_URL)' --rate $(SOAK_RATE) --duration $(SOAK_DURATION)

reliability: ## Run the reliability tests: concurrency, faults, cancellation, shutdown, SQLite writers, short soak
	$(GO) test -race -count=1 -v -run '$(RELIABILITY_TESTS)' ./server/ ./cmd/...

RELIABILITY_TESTS = ConcurrentOverlapping|BackendsTerminated|ClientHangsUp|StatementTimeout|DatabaseOutage|SQLite_ConcurrentWriters|GracefulShutdown|ShutdownTimeout|Soak_
