package awsclient

import (
	"bytes"
	"fmt"
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsfirehose "github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Apply bounds the calls of clients made from cfg with o: its HTTP client
// (connect, answer-header and idle timeouts), its retryer (MaxAttempts,
// MaxBackoff) and the per-attempt timeout.
func Apply(cfg *aws.Config, o Options) error {
	if err := o.Validate(); err != nil {
		return err
	}
	o = o.withDefaults()
	cfg.HTTPClient = HTTPClient(o)
	cfg.Retryer = retryer(o)
	cfg.APIOptions = append(cfg.APIOptions, addAttemptTimeout(o.AttemptTimeout))
	return nil
}

// HTTPClient returns the SDK HTTP client with o's connect, answer-header
// and idle-connection timeouts.
func HTTPClient(o Options) *awshttp.BuildableClient {
	o = o.withDefaults()
	return awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.DialContext = dialer(o.connectTimeout(), o.AttemptTimeout)
		t.TLSHandshakeTimeout = o.connectTimeout()
		t.ResponseHeaderTimeout = o.AttemptTimeout
	})
}

// retryer returns the standard retryer with o's attempts and backoff.
func retryer(o Options) func() aws.Retryer {
	return func() aws.Retryer {
		return retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = o.MaxAttempts
			so.MaxBackoff = o.MaxBackoff
		})
	}
}

// S3 returns an S3 client of cfg (bounded by Apply).
func S3(cfg aws.Config, optFns ...func(*s3.Options)) *s3.Client {
	return s3.NewFromConfig(cfg, optFns...)
}

// maxFirehoseAnswer bounds a PutRecordBatch answer read by the Firehose
// client: 500 entries of a record ID (about 220 bytes each at most) and
// an error message.
const maxFirehoseAnswer = 1 << 20

// Firehose returns a Firehose client of cfg (bounded by Apply) that
// makes one attempt per call (the firehose.Sender retries, and only the
// failed records) and reads each answer whole before the SDK sees it (see
// ReadWhole).
func Firehose(cfg aws.Config, optFns ...func(*awsfirehose.Options)) *awsfirehose.Client {
	opts := append([]func(*awsfirehose.Options){func(o *awsfirehose.Options) {
		o.Retryer = aws.NopRetryer{}
		o.HTTPClient = ReadWhole(o.HTTPClient, maxFirehoseAnswer)
	}}, optFns...)
	return awsfirehose.NewFromConfig(cfg, opts...)
}

// HTTPDoer is the HTTP client interface of the SDK.
type HTTPDoer interface {
	Do(*http.Request) (*http.Response, error)
}

// ReadWhole returns a client that reads each answer's body, up to limit
// bytes, before returning the answer. For small answers only: smithy-go
// closes the request body as soon as Do returns, and net/http's writer,
// when it reads that closed body once more after sending it (to check its
// length), gets io.EOF and closes the connection, failing the read of an
// answer still on its way: a call Firehose stored would seem to fail.
// With the body read first, nothing is left to lose. A body that cannot
// be read whole yields its bytes and then the read error, so the SDK sees
// the status and an unreadable answer; a body over limit yields limit
// bytes and then an error.
func ReadWhole(next HTTPDoer, limit int64) HTTPDoer {
	if next == nil {
		next = awshttp.NewBuildableClient()
	}
	return &wholeClient{next: next, limit: limit}
}

type wholeClient struct {
	next  HTTPDoer
	limit int64
}

// Do sends req and reads the answer's body.
func (c *wholeClient) Do(req *http.Request) (*http.Response, error) {
	resp, err := c.next.Do(req)
	if err != nil || resp == nil || resp.Body == nil {
		return resp, err
	}
	data, rerr := io.ReadAll(io.LimitReader(resp.Body, c.limit+1))
	_ = resp.Body.Close()
	if rerr == nil && int64(len(data)) > c.limit {
		data = data[:c.limit]
		rerr = fmt.Errorf("answer body larger than %d bytes", c.limit)
	}
	var body io.Reader = bytes.NewReader(data)
	if rerr != nil {
		body = io.MultiReader(body, errReader{rerr})
	}
	resp.Body = io.NopCloser(body)
	return resp, nil
}

// errReader fails every read with err.
type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }
