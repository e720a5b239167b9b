package awsclient

import (
	"context"
	"time"

	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// attemptTimeout is a Finalize middleware, after the retry middleware, that
// bounds each attempt of a call that moves no object data.
type attemptTimeout struct {
	timeout time.Duration
}

// ID names the middleware in the stack.
func (*attemptTimeout) ID() string { return "ddblakeAttemptTimeout" }

// HandleFinalize runs one attempt under the timeout and turns its being
// cut short into a retryable AttemptTimeoutError.
func (m *attemptTimeout) HandleFinalize(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (
	middleware.FinalizeOutput, middleware.Metadata, error,
) {
	service, op := middleware.GetServiceID(ctx), middleware.GetOperationName(ctx)
	if movesData(service, op) {
		// Bounded by the answer's header timeout and the connection's
		// idle timeout instead: its time grows with the object.
		return next.HandleFinalize(ctx, in)
	}
	actx, cancel := context.WithTimeout(ctx, m.timeout)
	defer cancel()
	out, md, err := next.HandleFinalize(actx, in)
	if err != nil && actx.Err() != nil && ctx.Err() == nil {
		endpoint := ""
		if req, ok := in.Request.(*smithyhttp.Request); ok && req.URL != nil {
			endpoint = req.URL.Scheme + "://" + req.URL.Host
		}
		err = &AttemptTimeoutError{Service: service, Operation: op, Endpoint: endpoint, Limit: m.timeout, Err: err}
	}
	return out, md, err
}

// movesData reports whether a call's time grows with an object's size.
func movesData(service, op string) bool {
	if service != "S3" {
		return false
	}
	switch op {
	case "GetObject", "PutObject", "UploadPart":
		return true
	}
	return false
}

// addAttemptTimeout adds the middleware right after the retry middleware,
// so that it runs once per attempt.
func addAttemptTimeout(timeout time.Duration) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		mw := &attemptTimeout{timeout: timeout}
		if _, ok := stack.Finalize.Get("Retry"); ok {
			return stack.Finalize.Insert(mw, "Retry", middleware.After)
		}
		return stack.Finalize.Add(mw, middleware.After)
	}
}
