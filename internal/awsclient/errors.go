package awsclient

import (
	"errors"
	"fmt"
	"time"
)

// ErrBadOptions is returned by Options.Validate and Apply.
var ErrBadOptions = errors.New("invalid AWS client options")

// AttemptTimeoutError is an attempt of a call cut short by
// Options.AttemptTimeout. It is retryable: the SDK makes the next attempt.
type AttemptTimeoutError struct {
	// Service and Operation name the call ("S3", "PutObject").
	Service, Operation string
	// Endpoint is the scheme and host the attempt was sent to.
	Endpoint string
	// Limit is the bound that was reached.
	Limit time.Duration
	// Err is what the call returned when it was cut short (a canceled
	// request). It is not unwrapped: the SDK does not retry a canceled
	// request, and this one is to be retried.
	Err error
}

// Error names the call, the endpoint and the bound.
func (e *AttemptTimeoutError) Error() string {
	return fmt.Sprintf("%s %s: no answer from %s within %v", e.Service, e.Operation, e.Endpoint, e.Limit)
}

// Timeout reports true: the error is a timeout.
func (e *AttemptTimeoutError) Timeout() bool { return true }

// RetryableError reports true: the SDK's retryer makes another attempt.
func (e *AttemptTimeoutError) RetryableError() bool { return true }
