package main

import "errors"

// Errors of the function.
var (
	// ErrBadEnv is a missing or invalid environment variable.
	ErrBadEnv = errors.New("invalid function environment")
	// ErrConfig is a configuration file that cannot be read or parsed.
	ErrConfig = errors.New("cannot load the configuration")
	// ErrNoMaskKey is a configuration with mask rules and no mask key;
	// the function fails its init rather than mask without one.
	ErrNoMaskKey = errors.New("mask rules need a mask key")
	// ErrBadPayload is an invocation payload that is not a DynamoDB
	// stream or Kinesis event; the whole batch is reported failed.
	ErrBadPayload = errors.New("invalid event payload")
	// ErrNoSequence is a failed batch in which no record up to the first
	// failed one has a readable sequence number to resume from; the whole
	// batch is reported failed.
	ErrNoSequence = errors.New("no sequence number to resume from")
	// ErrNotProcessed means the batch could not be processed at all (for
	// example a table's rules are invalid); the whole batch is reported
	// failed.
	ErrNotProcessed = errors.New("batch not processed")
)
