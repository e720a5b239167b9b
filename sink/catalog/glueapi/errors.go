package glueapi

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/aws/smithy-go"
)

// ErrBadConfig is returned by New for a configuration it cannot call
// Glue with.
var ErrBadConfig = errors.New("glueapi: bad configuration")

// Error codes of Glue the catalog sync tells apart.
const (
	CodeEntityNotFound         = "EntityNotFoundException"
	CodeAlreadyExists          = "AlreadyExistsException"
	CodeConcurrentModification = "ConcurrentModificationException"
)

// APIError is an answer of Glue other than success: its HTTP status, its
// error code ("EntityNotFoundException", "ThrottlingException"...) and
// message. It implements smithy-go's APIError (ErrorCode, ErrorMessage,
// ErrorFault), as the SDK's errors do.
type APIError struct {
	Op         string
	StatusCode int
	Code       string
	Message    string
	RequestID  string
}

func (e *APIError) Error() string {
	s := "glue " + e.Op + ": HTTP " + strconv.Itoa(e.StatusCode)
	if e.Code != "" {
		s += ", " + e.Code
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.RequestID != "" {
		s += " (request id " + e.RequestID + ")"
	}
	return s
}

// ErrorCode is Glue's error code.
func (e *APIError) ErrorCode() string { return e.Code }

// ErrorMessage is Glue's message.
func (e *APIError) ErrorMessage() string { return e.Message }

// ErrorFault says whose fault the error is: the server's for a 5xx
// answer, the client's for a 4xx one.
func (e *APIError) ErrorFault() smithy.ErrorFault {
	switch {
	case e.StatusCode >= 500:
		return smithy.FaultServer
	case e.StatusCode >= 400:
		return smithy.FaultClient
	}
	return smithy.FaultUnknown
}

var _ smithy.APIError = (*APIError)(nil)

// OperationError is a call that got no answer to read: the request could
// not be made, sent or its answer read (the transport's error, the
// context's), or the answer could not be decoded. It unwraps to the
// cause, so errors.As finds a net.Error and errors.Is finds
// context.DeadlineExceeded.
type OperationError struct {
	Op       string
	Endpoint string
	Err      error
}

func (e *OperationError) Error() string {
	if e.Endpoint != "" {
		return fmt.Sprintf("glue %s (%s): %v", e.Op, e.Endpoint, e.Err)
	}
	return fmt.Sprintf("glue %s: %v", e.Op, e.Err)
}

// Unwrap returns the cause.
func (e *OperationError) Unwrap() error { return e.Err }
