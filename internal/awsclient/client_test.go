package awsclient_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/internal/awsclient"
)

// silent is a TCP endpoint that accepts connections and then does what
// its handler says (by default: reads the request and never answers).
type silent struct {
	ln       net.Listener
	accepted atomic.Int32
	mu       sync.Mutex
	conns    []net.Conn
}

func newSilent(t *testing.T, handle func(net.Conn)) *silent {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := &silent{ln: ln}
	if handle == nil {
		handle = func(c net.Conn) { _, _ = io.Copy(io.Discard, c) }
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.accepted.Add(1)
			s.mu.Lock()
			s.conns = append(s.conns, c)
			s.mu.Unlock()
			go handle(c)
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, c := range s.conns {
			_ = c.Close()
		}
	})
	return s
}

func (s *silent) url() string { return "http://" + s.ln.Addr().String() }

// testOptions are short bounds: 300ms per attempt, 2 attempts.
var testOptions = awsclient.Options{AttemptTimeout: 300 * time.Millisecond, MaxAttempts: 2, MaxBackoff: 10 * time.Millisecond}

func config(t *testing.T, o awsclient.Options) aws.Config {
	t.Helper()
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("k", "s", "")}
	require.NoError(t, awsclient.Apply(&cfg, o))
	return cfg
}

func s3At(t *testing.T, url string, o awsclient.Options) *s3.Client {
	return awsclient.S3(config(t, o), func(so *s3.Options) {
		so.BaseEndpoint = aws.String(url)
		so.UsePathStyle = true
	})
}

// within runs f and fails the test if it has not returned after limit, a
// generous bound: the point is that it returns at all.
func within(t *testing.T, limit time.Duration, f func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-time.After(limit):
		t.Fatalf("still waiting after %v", limit)
		return nil
	}
}

// TestSilentEndpoint: against an endpoint that accepts connections and
// never answers, every kind of call fails after MaxAttempts attempts, each
// cut at AttemptTimeout, and says which endpoint did not answer.
func TestSilentEndpoint(t *testing.T) {
	bound := testOptions.CallBound()
	require.Equal(t, 610*time.Millisecond, bound)
	for name, call := range map[string]func(ctx context.Context, c *s3.Client) error{
		"HeadBucket": func(ctx context.Context, c *s3.Client) error {
			_, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("b")})
			return err
		},
		"ListObjectsV2": func(ctx context.Context, c *s3.Client) error {
			_, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("b")})
			return err
		},
		"PutObject": func(ctx context.Context, c *s3.Client) error {
			_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("b"), Key: aws.String("k"), Body: bytes.NewReader([]byte("x"))})
			return err
		},
		"GetObject": func(ctx context.Context, c *s3.Client) error {
			_, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("b"), Key: aws.String("k")})
			return err
		},
	} {
		t.Run(name, func(t *testing.T) {
			srv := newSilent(t, nil)
			c := s3At(t, srv.url(), testOptions)
			start := time.Now()
			err := within(t, bound+30*time.Second, func() error { return call(context.Background(), c) })
			require.Error(t, err)
			require.GreaterOrEqual(t, time.Since(start), 2*testOptions.AttemptTimeout, "both attempts waited their full time")
			require.EqualValues(t, 2, srv.accepted.Load(), "one connection per attempt, MaxAttempts attempts")
			require.Contains(t, err.Error(), "exceeded maximum number of attempts, 2")
			var te interface{ Timeout() bool }
			require.ErrorAs(t, err, &te)
			require.True(t, te.Timeout())
			// The attempt timeout, the answer-header timeout and the idle
			// connection's deadline share the bound: whichever fires
			// first, the error names the endpoint.
			require.Contains(t, err.Error(), srv.url())
		})
	}
	t.Run("Firehose makes one attempt", func(t *testing.T) {
		srv := newSilent(t, nil)
		c := awsclient.Firehose(config(t, testOptions), func(o *firehoseOptions) { o.BaseEndpoint = aws.String(srv.url()) })
		err := within(t, bound+30*time.Second, func() error { return putRecordBatch(c) })
		require.Error(t, err)
		require.Contains(t, err.Error(), srv.url())
		require.EqualValues(t, 1, srv.accepted.Load(), "the Sender retries, not the SDK")
	})
}

// TestStalledTransfer: an upload the endpoint stops reading, and a
// download it stops sending, fail once no byte has moved for
// AttemptTimeout, although such calls have no bound on their whole time.
func TestStalledTransfer(t *testing.T) {
	t.Run("upload", func(t *testing.T) {
		srv := newSilent(t, func(c net.Conn) {
			_, _ = io.CopyN(io.Discard, c, 64<<10) // then stop reading
		})
		c := s3At(t, srv.url(), testOptions)
		body := bytes.Repeat([]byte("x"), 64<<20) // more than socket buffers hold
		err := within(t, testOptions.CallBound()+30*time.Second, func() error {
			_, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("b"), Key: aws.String("k"), Body: bytes.NewReader(body)})
			return err
		})
		// The connection's deadline fails the write, or the read of the
		// answer that closes the connection under it.
		require.Error(t, err)
		require.Contains(t, err.Error(), srv.url())
		require.EqualValues(t, 2, srv.accepted.Load())
	})
	t.Run("download", func(t *testing.T) {
		srv := newSilent(t, func(c net.Conn) {
			r := bufio.NewReader(c)
			req, err := http.ReadRequest(r)
			if err != nil {
				return
			}
			_ = req.Body.Close()
			_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\nContent-Type: application/octet-stream\r\n\r\n")
			_, _ = c.Write(bytes.Repeat([]byte("y"), 1000)) // then silence
			_, _ = io.Copy(io.Discard, r)
		})
		c := s3At(t, srv.url(), testOptions)
		out, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("b"), Key: aws.String("k")})
		require.NoError(t, err, "the answer's headers came")
		defer out.Body.Close()
		var n int
		err = within(t, 30*time.Second, func() error {
			b, err := io.ReadAll(out.Body)
			n = len(b)
			return err
		})
		require.Equal(t, 1000, n)
		require.ErrorIs(t, err, errDeadline())
	})
	t.Run("slow but moving download lives", func(t *testing.T) {
		srv := newSilent(t, func(c net.Conn) {
			r := bufio.NewReader(c)
			if _, err := http.ReadRequest(r); err != nil {
				return
			}
			_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\n")
			for range 8 { // 8 bytes over about 4 attempt timeouts
				time.Sleep(testOptions.AttemptTimeout / 2)
				if _, err := c.Write([]byte("z")); err != nil {
					return
				}
			}
			_, _ = io.Copy(io.Discard, r)
		})
		c := s3At(t, srv.url(), testOptions)
		out, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("b"), Key: aws.String("k")})
		require.NoError(t, err)
		defer out.Body.Close()
		b, err := io.ReadAll(out.Body)
		require.NoError(t, err)
		require.Equal(t, "zzzzzzzz", string(b))
	})
}

// errDeadline is the error a connection's passed deadline gives.
func errDeadline() error { return errDeadlineExceeded }

func TestOptions(t *testing.T) {
	require.Equal(t, 70*time.Second, awsclient.Options{}.CallBound(), "the documented default")
	require.Less(t, awsclient.Options{}.CallBound(), 2*time.Minute)
	for _, o := range []awsclient.Options{{AttemptTimeout: -1}, {MaxAttempts: -1}, {MaxAttempts: 21}, {MaxBackoff: -1}} {
		require.ErrorIs(t, o.Validate(), awsclient.ErrBadOptions)
		var cfg aws.Config
		require.ErrorIs(t, awsclient.Apply(&cfg, o), awsclient.ErrBadOptions)
	}
	require.NoError(t, awsclient.Options{}.Validate())
}

// TestReadWhole: the answer's body is read inside Do; a body cut short
// yields its bytes, then the read error.
func TestReadWhole(t *testing.T) {
	srv := newSilent(t, func(c net.Conn) {
		r := bufio.NewReader(c)
		for {
			req, err := http.ReadRequest(r)
			if err != nil {
				return
			}
			_, _ = io.Copy(io.Discard, req.Body)
			if req.URL.Path == "/cut" {
				_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf")
				_ = c.Close()
				return
			}
			_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nwhole")
		}
	})
	c := awsclient.ReadWhole(http.DefaultClient, 1<<10)
	req, err := http.NewRequest(http.MethodPost, srv.url()+"/ok", strings.NewReader("body"))
	require.NoError(t, err)
	resp, err := c.Do(req)
	require.NoError(t, err)
	srv.mu.Lock()
	for _, conn := range srv.conns {
		_ = conn.Close() // the body was read already
	}
	srv.mu.Unlock()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, "whole", string(b))

	req, err = http.NewRequest(http.MethodPost, srv.url()+"/cut", strings.NewReader("body"))
	require.NoError(t, err)
	resp, err = awsclient.ReadWhole(&http.Client{Transport: &http.Transport{}}, 1<<10).Do(req)
	require.NoError(t, err)
	require.Equal(t, 200, resp.StatusCode)
	b, err = io.ReadAll(resp.Body)
	require.Equal(t, "half", string(b))
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
}
