// Package proctest waits for server processes that tests start (the
// Lambda Runtime Interface Emulator, versitygw) by events: a write to
// their output, their socket accepting, their exit. No test sleeps for a
// fixed time hoping the process is ready.
//
// Exported names: Output (a process's output that readers can wait on),
// Start (runs a command and reports its exit), WaitListening.
package proctest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"sync"
	"time"
)

// Output is a process's output, safe for concurrent writers, whose
// readers can wait for what they expect to be written.
type Output struct {
	mu      sync.Mutex
	b       bytes.Buffer
	changed chan struct{} // closed at the next write
}

// Write appends p and wakes the waiters.
func (o *Output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	n, err := o.b.Write(p)
	if o.changed != nil {
		close(o.changed)
		o.changed = nil
	}
	return n, err
}

// String returns the output so far.
func (o *Output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String()
}

// Wait returns the output once done holds for it, waking at each write.
//
// It gives up when ctx ends, returning the output as it is then and
// false; the bound is for a process that never writes what is expected,
// so make it generous.
func (o *Output) Wait(ctx context.Context, done func(out string) bool) (string, bool) {
	for {
		o.mu.Lock()
		out := o.b.String()
		if done(out) {
			o.mu.Unlock()
			return out, true
		}
		if o.changed == nil {
			o.changed = make(chan struct{})
		}
		ch := o.changed
		o.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return o.String(), false
		}
	}
}

// Start starts cmd and returns a channel closed when it has exited (its
// Wait returned). The caller must not call cmd.Wait.
func Start(cmd *exec.Cmd) (exited <-chan struct{}, err error) {
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	return done, nil
}

// ErrExited is a process that exited before it was ready.
var ErrExited = errors.New("process exited")

// WaitListening returns once addr accepts a TCP connection.
//
// A process gives no sign when its socket starts listening, so it tries
// to connect, with waits growing from 1 ms to 100 ms between tries; it
// stops at once with ErrExited when exited is closed, and with ctx's
// error when ctx ends.
func WaitListening(ctx context.Context, addr string, exited <-chan struct{}) error {
	wait := time.Millisecond
	for {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			return c.Close()
		}
		t := time.NewTimer(wait)
		select {
		case <-exited:
			t.Stop()
			return fmt.Errorf("%w before listening on %s", ErrExited, addr)
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%s is not listening: %w (last try: %v)", addr, ctx.Err(), err)
		case <-t.C:
		}
		wait = min(2*wait, 100*time.Millisecond)
	}
}
