# ddblake: common tasks. `make demo` replays the bundled sample into ./lake
# and queries it; `make test` runs every test CI runs.

GO ?= go
export PATH := $(shell $(GO) env GOPATH)/bin:$(PATH)

RIE_VERSION := v0.0.0-20261030222936-bef5c4ba774d

.PHONY: test test-unit test-e2e tools vet sample demo

## test: everything CI runs: format and vet checks, unit tests with the
## race detector, then the end-to-end tests that read the lake with DuckDB.
test: tools vet test-unit test-e2e

## tools: the test servers the tests start (Lambda Runtime Interface Emulator).
tools:
	@command -v aws-lambda-rie >/dev/null 2>&1 || $(GO) install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@$(RIE_VERSION)

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	cd e2e && $(GO) vet ./...

test-unit:
	$(GO) test -race -count=1 ./...

test-e2e:
	cd e2e && $(GO) test -count=1 ./...

## sample: regenerate the bundled sample data (deterministic).
sample:
	$(GO) run ./cmd/ddblake-sample -out testdata/sample
