package awsclient

import (
	"fmt"
	"time"
)

// Defaults of Options.
const (
	DefaultAttemptTimeout = 20 * time.Second
	DefaultMaxAttempts    = 3
	DefaultMaxBackoff     = 5 * time.Second
	// DefaultConnectTimeout bounds connecting and the TLS handshake,
	// unless AttemptTimeout is shorter.
	DefaultConnectTimeout = 10 * time.Second
)

// Options bound the calls of the clients this package makes. Zero fields
// take the defaults.
type Options struct {
	// AttemptTimeout bounds one attempt of a call (default 20s): the
	// wait for the answer, a connection moving no byte, and the whole
	// attempt of a call that moves no object data.
	AttemptTimeout time.Duration
	// MaxAttempts is the most attempts of one call, the first included
	// (default 3). The Firehose client makes one: its Sender retries.
	MaxAttempts int
	// MaxBackoff caps the wait between attempts (default 5s).
	MaxBackoff time.Duration
}

// Validate checks that no bound is negative.
func (o Options) Validate() error {
	if o.AttemptTimeout < 0 || o.MaxBackoff < 0 {
		return fmt.Errorf("%w: timeouts must not be negative", ErrBadOptions)
	}
	if o.MaxAttempts < 0 || o.MaxAttempts > maxAttempts {
		return fmt.Errorf("%w: max attempts %d: want 1-%d (0 for the default)", ErrBadOptions, o.MaxAttempts, maxAttempts)
	}
	return nil
}

// maxAttempts bounds MaxAttempts.
const maxAttempts = 20

// withDefaults fills the zero fields.
func (o Options) withDefaults() Options {
	if o.AttemptTimeout == 0 {
		o.AttemptTimeout = DefaultAttemptTimeout
	}
	if o.MaxAttempts == 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.MaxBackoff == 0 {
		o.MaxBackoff = DefaultMaxBackoff
	}
	return o
}

// connectTimeout is the bound on connecting and the TLS handshake.
func (o Options) connectTimeout() time.Duration {
	return min(DefaultConnectTimeout, o.AttemptTimeout)
}

// CallBound returns the longest one call can take against an endpoint
// that answers nothing: every attempt cut at AttemptTimeout, with the
// longest backoff between them. With the defaults it is 70s.
func (o Options) CallBound() time.Duration {
	o = o.withDefaults()
	return time.Duration(o.MaxAttempts)*o.AttemptTimeout + time.Duration(o.MaxAttempts-1)*o.MaxBackoff
}
