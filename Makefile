# Gantry. `make run` starts the service on the project-local PostgreSQL;
# `make test` runs every test. Both install what they need on a fresh Debian
# machine with Go (scripts/deps.sh) and start the local cluster (scripts/pg.sh).
.PHONY: run test bench deps db stop-db vet build

GO ?= go

deps:
	@scripts/deps.sh

db: deps
	@scripts/pg.sh start >/dev/null

build:
	$(GO) build -o bin/gantry ./cmd/gantry

run: db build
	@eval "$$(scripts/devkeys.sh)"; \
	export DATABASE_URL=$${DATABASE_URL:-$$(scripts/pg.sh url)}; \
	mkdir -p .local/edi; \
	exec bin/gantry serve

test: db
	$(GO) vet ./...
	$(GO) test -p 1 -count=1 -timeout 30m ./...

bench: db
	$(GO) test -count=1 -run '^$$' -bench . -benchtime 1x -timeout 30m ./test/bench/ | tee .local/bench.txt
	$(GO) test -count=1 -run '^$$' -bench AuditHistory -benchtime 300x -timeout 30m ./projections/audit/ | tee -a .local/bench.txt
	$(GO) test -count=1 -run '^$$' -bench UsageImport -benchtime 3x -timeout 30m ./adapters/cardsdb/ | tee -a .local/bench.txt
	$(GO) test -count=1 -run '^$$' -bench PrinterSink -benchtime 1x -timeout 30m ./adapters/edi/ | tee -a .local/bench.txt

stop-db:
	@scripts/pg.sh stop
