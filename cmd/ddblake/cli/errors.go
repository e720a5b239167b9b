package cli

import (
	"errors"
	"strconv"
)

// Exit codes of Run.
const (
	// ExitOK: everything was written.
	ExitOK = 0
	// ExitFailed: the command could not finish (write errors, nothing at
	// all could be read, an unreadable lake).
	ExitFailed = 1
	// ExitUsage: bad usage or configuration.
	ExitUsage = 2
	// ExitPartial: done, but some records or inputs were set aside or
	// could not be read to the end.
	ExitPartial = 3
)

var (
	// ErrUsage marks a command line that cannot be run: an unknown flag or
	// command, a missing argument, a bad flag value.
	ErrUsage = errors.New("bad usage")
	// ErrConfig marks a configuration file that cannot be read or is not
	// valid.
	ErrConfig = errors.New("bad configuration")
	// ErrNoTables is a lake whose schema registry holds no table.
	ErrNoTables = errors.New("no tables in the lake")
	// ErrNoMaskKey is a configuration with mask rules and no mask key
	// (DDBLAKE_MASK_KEY, or the file or S3 object mask_key names).
	ErrNoMaskKey = errors.New("mask rules need a mask key")
)

// ExitError is an error with the exit code it ends the run with. A nil
// Err means the command has already said everything (e.g. a summary
// line) and only the code remains.
type ExitError struct {
	Code int
	Err  error
}

// Error returns the cause's message, or names the code when there is no
// cause.
func (e *ExitError) Error() string {
	if e.Err == nil {
		return "exit code " + strconv.Itoa(e.Code)
	}
	return e.Err.Error()
}

// Unwrap returns the cause.
func (e *ExitError) Unwrap() error { return e.Err }

// exit returns an ExitError with code and cause err.
func exit(code int, err error) error { return &ExitError{Code: code, Err: err} }
