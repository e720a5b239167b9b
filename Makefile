# ddblake: common tasks, run from the repository root.
#   make demo   replays the bundled sample into ./lake, then queries it
#   make test       the checks and tests, long loops shortened (-short)
#   make test-full  everything CI runs (.ci/run): the same, long loops whole

GO ?= go
export PATH := $(shell $(GO) env GOPATH)/bin:$(PATH)

RIE_VERSION := v0.0.0-20261030222936-bef5c4ba774d
LAKE        ?= lake
# TESTFLAGS go to every go test: -short shortens the long loops (soak
# loops, many seeds, large inputs, emulator and server tests that
# repeat what others check); test-full clears it.
TESTFLAGS   ?= -short
# TESTGORACE goes to the race detector of the unit tests: make test skips
# its one-second wait at the exit of every test binary (a goroutine left
# running after a package's last test, racing in that second, goes
# unreported); test-full keeps the wait.
TESTGORACE  ?= atexit_sleep_ms=0

.PHONY: demo test test-full tools vet test-unit test-e2e sample lambda bench

# ---------------------------------------------------------------- demo
## demo: replay testdata/sample into ./lake, then query it with DuckDB.
demo:
	$(GO) build -o bin/ddblake ./cmd/ddblake
	./bin/ddblake replay --to $(LAKE) testdata/sample
	cd e2e && $(GO) run ./cmd/lakequery -lake ../$(LAKE) \
		"SELECT dt, _event_name, count(*) AS rows FROM chat_messages GROUP BY ALL ORDER BY ALL" \
		"SELECT room_id, count(*) AS live_messages, epoch_ms(max(created_at)) AS last_message_at FROM chat_messages_latest GROUP BY room_id ORDER BY live_messages DESC LIMIT 5"

# ---------------------------------------------------------------- test
## test: gofmt and vet checks, then the unit tests with the race detector
## and the end-to-end tests that read the lake back with DuckDB, the two
## at once (each leaves cores idle while its last packages or its servers
## run); long loops shortened (TESTFLAGS=-short).
test: tools vet
	@$(MAKE) --no-print-directory -j2 test-unit test-e2e

## test-full: what CI runs (.ci/run): make test with the long loops whole.
test-full:
	$(MAKE) test TESTFLAGS= TESTGORACE=

## tools: the test server the tests start as a process (the Lambda Runtime
## Interface Emulator); S3 and Firehose servers run inside the tests. With
## npm, the Amazon States Language validator the backfill template's test
## runs (.ci/tools, from its package-lock.json).
tools:
	@command -v aws-lambda-rie >/dev/null 2>&1 || $(GO) install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@$(RIE_VERSION)
	@if command -v npm >/dev/null 2>&1 && [ ! -x .ci/tools/node_modules/.bin/asl-validator ]; then \
		npm ci --prefix .ci/tools --no-audit --no-fund; fi

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	cd e2e && $(GO) vet ./...
	@$(GO) mod tidy -diff >/dev/null || { echo "go.mod is not tidy: run go mod tidy"; $(GO) mod tidy -diff; exit 1; }
	@cd e2e && $(GO) mod tidy -diff >/dev/null || { echo "e2e/go.mod is not tidy: run go mod tidy in e2e"; $(GO) mod tidy -diff; exit 1; }

test-unit:
	GORACE="$(strip $(TESTGORACE) $(GORACE))" $(GO) test -race -count=1 $(TESTFLAGS) ./...

test-e2e:
	cd e2e && $(GO) test -count=1 $(TESTFLAGS) ./...

## sample: regenerate the bundled sample data (deterministic).
sample:
	$(GO) run ./cmd/ddblake-sample -out testdata/sample -force

# ---------------------------------------------------------------- bench
## bench: replay MB per CPU second, peak RSS, Lambda CPU ms and allocations
## per 6 MB batch, each beside the naive baseline run in the same invocation
## (bench/speed; CPU time, not wall time).
bench:
	$(GO) run ./bench/speed

# ---------------------------------------------------------------- lambda
# The Lambda package: dist/lambda/bootstrap (provided.al2023, arm64, CGO
# off, no RPC mode, stripped) and dist/ddblake-lambda.zip holding it (plus
# dist/lambda/ddblake.yaml when present, for DDBLAKE_CONFIG=ddblake.yaml): the
# zip deploy/template.yaml's CodeUri names, which `sam deploy` uploads as is.
# LAMBDA_GOARCH=amd64 builds for x86_64 functions.
LAMBDA_DIR    ?= dist/lambda
LAMBDA_GOARCH ?= arm64

lambda:
	mkdir -p $(LAMBDA_DIR)
	CGO_ENABLED=0 GOOS=linux GOARCH=$(LAMBDA_GOARCH) $(GO) build -tags lambda.norpc -trimpath \
		-ldflags "-s -w" -o $(LAMBDA_DIR)/bootstrap ./cmd/ddblake-lambda
	$(GO) run ./scripts/lambdazip -o $(dir $(LAMBDA_DIR))ddblake-lambda.zip $(LAMBDA_DIR)/bootstrap \
		$(wildcard $(LAMBDA_DIR)/ddblake.yaml)
	@ls -l $(LAMBDA_DIR)/bootstrap $(dir $(LAMBDA_DIR))ddblake-lambda.zip
