package awsclient

import (
	"context"
	"net"
	"time"
)

// writeChunk is the most bytes written to a connection with one deadline:
// a large body is written in pieces, each of which must move within the
// idle timeout.
const writeChunk = 64 << 10

// idleConn closes the connection's reads and writes when no byte has
// moved either way for idle: every read or write, and every piece of a
// large write, pushes both deadlines back. A slow but moving transfer
// lives on; a silent peer fails the pending call with a timeout.
type idleConn struct {
	net.Conn
	idle time.Duration
}

func (c *idleConn) extend() error { return c.Conn.SetDeadline(time.Now().Add(c.idle)) }

// Read reads with the deadline pushed back.
func (c *idleConn) Read(p []byte) (int, error) {
	if err := c.extend(); err != nil {
		return 0, err
	}
	n, err := c.Conn.Read(p)
	if n > 0 {
		_ = c.extend()
	}
	return n, err
}

// Write writes p in pieces, pushing the deadline back before each.
func (c *idleConn) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		if err := c.extend(); err != nil {
			return written, err
		}
		chunk := p[:min(len(p), writeChunk)]
		n, err := c.Conn.Write(chunk)
		written += n
		if err != nil {
			return written, err
		}
		p = p[n:]
	}
	return written, nil
}

// dialer returns a DialContext bounded by connect whose connections close
// after idle without traffic.
func dialer(connect, idle time.Duration) func(ctx context.Context, network, addr string) (net.Conn, error) {
	d := &net.Dialer{Timeout: connect, KeepAlive: 30 * time.Second}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &idleConn{Conn: conn, idle: idle}, nil
	}
}
