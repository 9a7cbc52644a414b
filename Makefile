# agentos-sessions: the AgentOS sessions API in Go.
# `make help` lists the targets.

GO ?= go
ADDR ?= 127.0.0.1:7777
REFERENCE ?= ../shared/reference/agentos-sessions.openapi.yaml

FUZZTIME ?= 60s

.DEFAULT_GOAL := help

.PHONY: help generate build run test lint bench check-generated compat demo lint-openapi reference-diff test-clients ts-client npm-tools soak soak-replicas reliability fuzz bench-report

# HELP_VARS are the variables target descriptions name: make help shows
# their values (a test fails when a description names another).
HELP_VARS = ADDR SOAK_DURATION FUZZTIME

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST) \
		| sed $(foreach v,$(HELP_VARS),-e 's|$$($(v))|$($(v))|g')

generate: npm-tools ## Regenerate gen/, client/ and clients/typescript/schema.d.ts from openapi.yaml
	$(GO) generate ./gen/... ./client/...
	npm run --silent generate:ts

npm-tools: ## Install the pinned npm tools (package-lock.json) unless they are there
	@test -x node_modules/.bin/openapi-typescript -a -x node_modules/.bin/spectral || npm ci --ignore-scripts --no-audit --no-fund

build: ## Build the server binary (pure Go, no cgo) into bin/
	CGO_ENABLED=0 $(GO) build -o bin/agentos-sessions ./cmd/agentos-sessions

run: ## Serve the API on the embedded SQLite default (./agentos.db) at $(ADDR)
	$(GO) run ./cmd/agentos-sessions serve --addr $(ADDR)

demo: build ## Seed demo sessions into the SQLite default, then serve them (open /docs)
	bin/agentos-sessions seed --sessions 300 --runs 3
	bin/agentos-sessions serve --addr $(ADDR)

test: ## Run the whole test suite: the Go suite against real PostgreSQL and SQLite, the README's examples, then the clients
	$(GO) test -race -count=1 -skip '^TestREADME$$' ./...
	@# The README check on its own, with -v, so that what it ran and skipped shows.
	$(GO) test -race -count=1 -run '^TestREADME$$' -v ./cmd/agentos-sessions/
	$(MAKE) --no-print-directory test-clients

lint: ## gofmt, go vet, generated-code drift, the seed compatibility gate, then golangci-lint (.golangci.yml)
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above need formatting"; exit 1; }
	$(GO) vet ./...
	$(MAKE) --no-print-directory check-generated compat
	@# golangci-lint is pinned in its own modfile, so the server's go.mod does not carry it.
	$(GO) tool -modfile=tools/golangci.mod golangci-lint run

check-generated: generate ## Fail when gen/, client/ or clients/typescript/ differ from what openapi.yaml generates
	@git diff --exit-code -- gen/ client/ clients/typescript/ && test -z "$$(git status --porcelain -- gen/ client/ clients/typescript/)" || { echo "generated code is stale: run make generate and commit"; exit 1; }

compat: ## Fail on any change to openapi.yaml that breaks clients of the seed document
	$(GO) tool oasdiff breaking compat/seed.openapi.yaml openapi.yaml --fail-on ERR

lint-openapi: npm-tools ## Lint openapi.yaml with Spectral (.spectral.yaml): fail on any error or warning
	npm run --silent lint:openapi

reference-diff: ## Report (never fail) what in openapi.yaml breaks clients of AgentOS's reference document
	@if test -f $(REFERENCE); then $(GO) tool oasdiff breaking $(REFERENCE) openapi.yaml || true; else echo "reference-diff: no $(REFERENCE), skipped"; fi

test-clients: build npm-tools ## Test the TypeScript client, packed and installed outside the repository with the README's example, and /docs in headless Chromium, against bin/agentos-sessions
	npm run --silent test:clients

ts-client: npm-tools ## Build the TypeScript client package and pack it (npm pack) into clients/typescript/
	npm run --silent build:client
	cd clients/typescript && npm pack --silent

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

fuzz: ## Fuzz requests through the whole stack for $(FUZZTIME) (make test replays the corpus)
	$(GO) test -run '^$$' -fuzz '^FuzzRequest$$' -fuzztime $(FUZZTIME) -parallel 1 ./server/

bench-report: build ## Time DELETE /sessions and the lists over HTTP against raw SQL and write BENCHMARKS.md (an hour at full size)
	$(GO) run ./cmd/agentos-bench -server bin/agentos-sessions $(BENCH_FLAGS)
