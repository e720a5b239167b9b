package proctest

import (
	"context"
	"net"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestOutputWait(t *testing.T) {
	var o Output
	go func() {
		for _, s := range []string{"starting\n", "half a li", "ne\n", "ready\n"} {
			_, _ = o.Write([]byte(s))
		}
	}()
	out, ok := o.Wait(context.Background(), func(out string) bool { return strings.Contains(out, "ready\n") })
	require.True(t, ok)
	require.Equal(t, "starting\nhalf a line\nready\n", out)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	out, ok = o.Wait(ctx, func(out string) bool { return strings.Contains(out, "never") })
	require.False(t, ok, "gives up when ctx ends")
	require.Equal(t, "starting\nhalf a line\nready\n", out)
}

func TestWaitListening(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, WaitListening(context.Background(), addr, nil))
	require.NoError(t, ln.Close())

	// Nothing listens on addr now: an exited process ends the wait.
	exited := make(chan struct{})
	close(exited)
	require.ErrorIs(t, WaitListening(context.Background(), addr, exited), ErrExited)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, WaitListening(ctx, addr, make(chan struct{})), context.Canceled)
}
