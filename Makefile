# ddblake build targets. Run from the repository root.

GO ?= go

# ---------------------------------------------------------------- lambda
# The Lambda package: dist/lambda/bootstrap (provided.al2023, arm64, CGO
# off, no RPC mode, stripped) and dist/lambda/ddblake-lambda.zip holding it
# (plus dist/lambda/ddblake.yaml when present, for DDBLAKE_CONFIG=ddblake.yaml).
# LAMBDA_GOARCH=amd64 builds for x86_64 functions.
LAMBDA_DIR    ?= dist/lambda
LAMBDA_GOARCH ?= arm64

.PHONY: lambda
lambda:
	mkdir -p $(LAMBDA_DIR)
	CGO_ENABLED=0 GOOS=linux GOARCH=$(LAMBDA_GOARCH) $(GO) build -tags lambda.norpc -trimpath \
		-ldflags "-s -w" -o $(LAMBDA_DIR)/bootstrap ./cmd/ddblake-lambda
	$(GO) run ./scripts/lambdazip -o $(LAMBDA_DIR)/ddblake-lambda.zip $(LAMBDA_DIR)/bootstrap \
		$(wildcard $(LAMBDA_DIR)/ddblake.yaml)
	@ls -l $(LAMBDA_DIR)/bootstrap $(LAMBDA_DIR)/ddblake-lambda.zip
