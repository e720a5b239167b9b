package firehose

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsfirehose "github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/smithy-go"
)

// Firehose's PutRecordBatch limits.
const (
	// MaxBatchRecords is the most records in one call.
	MaxBatchRecords = 500
	// MaxBatchBytes is the most bytes in one call. Sender counts it on the
	// request body as sent (records base64-encoded, with their JSON
	// framing), the strictest reading of the quota.
	MaxBatchBytes = 4 << 20
	// MaxRecordBytes is the largest record, before base64 encoding.
	MaxRecordBytes = 1000 << 10
)

// Defaults of Config.
const (
	DefaultMaxAttempts    = 10
	DefaultBaseDelay      = 100 * time.Millisecond
	DefaultMaxDelay       = 5 * time.Second
	DefaultDeadlineMargin = time.Second
	// DefaultAttemptTimeout bounds one PutRecordBatch call: a 4 MiB call
	// takes well under a second within a region.
	DefaultAttemptTimeout = 10 * time.Second
)

// Request framing counted against MaxBatchBytes: the body's fixed part
// (besides the stream name) and each record's {"Data":""} and comma.
const (
	requestOverhead = 64
	recordOverhead  = 12
)

// API is the part of the Firehose client a Sender uses;
// *awsfirehose.Client implements it.
type API interface {
	PutRecordBatch(ctx context.Context, params *awsfirehose.PutRecordBatchInput, optFns ...func(*awsfirehose.Options)) (*awsfirehose.PutRecordBatchOutput, error)
}

// WithoutSDKRetries is a client option (for awsfirehose.New or
// NewFromConfig) that turns off the SDK's own retries, which would resend
// whole batches: the Sender retries, and only the failed records.
func WithoutSDKRetries(o *awsfirehose.Options) { o.Retryer = aws.NopRetryer{} }

// Config configures a Sender. Zero fields take the defaults.
type Config struct {
	// Stream is the delivery stream name, or a template in which
	// "{table}" stands for the lake table name (see StreamName). Required.
	Stream string
	// MaxRecords is the most records per call (default and at most 500).
	MaxRecords int
	// MaxRequestBytes is the most bytes per call, counted on the request
	// as sent (default and at most 4 MiB).
	MaxRequestBytes int
	// MaxRecordBytes is the largest record sent; larger ones are refused
	// (default and at most 1,000 KiB).
	MaxRecordBytes int
	// MaxAttempts is the most calls made for one batch of records,
	// counting the first (default 10).
	MaxAttempts int
	// BaseDelay and MaxDelay bound the backoff before the n-th retry:
	// a random delay in [0, min(MaxDelay, BaseDelay·2^(n-1))]
	// (defaults 100ms and 5s).
	BaseDelay time.Duration
	MaxDelay  time.Duration
	// DeadlineMargin is how long before the context's deadline the
	// Sender stops calling and sleeping (default 1s).
	DeadlineMargin time.Duration
	// AttemptTimeout bounds one call (default 10s). A call cut short by
	// it has an unknown outcome: its records are sent again.
	AttemptTimeout time.Duration
	// Jitter returns a random duration in [0, d]; nil uses math/rand/v2.
	Jitter func(d time.Duration) time.Duration
	// Sleep waits for d or until ctx is done, returning ctx's error in
	// that case; nil uses a timer.
	Sleep func(ctx context.Context, d time.Duration) error
	// Logger receives a debug line per retry and a warning when records
	// are left undelivered; nil discards.
	Logger *slog.Logger
}

// Validate checks the stream template and the limits.
func (c Config) Validate() error {
	if err := validateTemplate(c.Stream); err != nil {
		return err
	}
	for _, l := range []struct {
		name  string
		v, mx int
	}{
		{"max records", c.MaxRecords, MaxBatchRecords},
		{"max request bytes", c.MaxRequestBytes, MaxBatchBytes},
		{"max record bytes", c.MaxRecordBytes, MaxRecordBytes},
		{"max attempts", c.MaxAttempts, math.MaxInt32},
	} {
		if l.v < 0 || l.v > l.mx {
			return fmt.Errorf("%w: %s %d: want 1-%d (0 for the default)", ErrBadConfig, l.name, l.v, l.mx)
		}
	}
	if c.MaxRequestBytes > 0 && c.MaxRequestBytes < requestOverhead+len(c.Stream)+recordOverhead+4 {
		return fmt.Errorf("%w: max request bytes %d is too small for one record", ErrBadConfig, c.MaxRequestBytes)
	}
	if c.BaseDelay < 0 || c.MaxDelay < 0 || c.DeadlineMargin < 0 || c.AttemptTimeout < 0 {
		return fmt.Errorf("%w: delays and margin must not be negative", ErrBadConfig)
	}
	if c.BaseDelay > 0 && c.MaxDelay > 0 && c.BaseDelay > c.MaxDelay {
		return fmt.Errorf("%w: base delay %v is over max delay %v", ErrBadConfig, c.BaseDelay, c.MaxDelay)
	}
	return nil
}

func (c Config) withDefaults() Config {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.MaxRecords, MaxBatchRecords)
	def(&c.MaxRequestBytes, MaxBatchBytes)
	def(&c.MaxRecordBytes, MaxRecordBytes)
	def(&c.MaxAttempts, DefaultMaxAttempts)
	if c.BaseDelay == 0 {
		c.BaseDelay = DefaultBaseDelay
	}
	if c.MaxDelay == 0 {
		c.MaxDelay = max(DefaultMaxDelay, c.BaseDelay)
	}
	if c.DeadlineMargin == 0 {
		c.DeadlineMargin = DefaultDeadlineMargin
	}
	if c.AttemptTimeout == 0 {
		c.AttemptTimeout = DefaultAttemptTimeout
	}
	if c.Jitter == nil {
		c.Jitter = func(d time.Duration) time.Duration { return rand.N(d + 1) }
	}
	if c.Sleep == nil {
		c.Sleep = sleep
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return c
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Entry is one record to deliver.
type Entry struct {
	// Table is the lake table of the row; it names the delivery stream.
	Table string
	// Index is the caller's record index (for a Lambda, the position of
	// the change record in the event). Several entries may share one.
	Index int
	// Data is the record, typically from EncodeRow. The Sender does not
	// modify or keep it.
	Data []byte
}

// Result is what Send did.
type Result struct {
	// Delivered is the number of entries Firehose acknowledged.
	Delivered int
	// DeliveredBytes is their total size.
	DeliveredBytes int64
	// Calls is the number of PutRecordBatch calls made.
	Calls int
	// Resent is the number of entries sent again after a failure.
	Resent int
	// Unknown is the number of calls whose outcome was unknown: the
	// answer was lost or unreadable, or the call was cut short, so
	// Firehose may have stored its records. They were sent again (or
	// reported undelivered), and may be stored twice; their rows carry
	// _event_id, by which the lake's readers drop the copies.
	Unknown int
	// Refused lists the entries that were never sent and never will be:
	// over the record size limit, or whose table makes no valid stream
	// name. They belong in the quarantine, not in batchItemFailures.
	Refused []*EntryError
	// Undelivered lists the entries not acknowledged, by Index: the
	// caller reports its records from FirstUndelivered on as failed.
	Undelivered []*EntryError
}

// FirstUndelivered returns the smallest index of an undelivered entry.
func (r *Result) FirstUndelivered() (int, bool) {
	if len(r.Undelivered) == 0 {
		return 0, false
	}
	return r.Undelivered[0].Index, true
}

// Sender delivers records to Firehose delivery streams. It is safe for
// concurrent use.
type Sender struct {
	api API
	cfg Config
}

// New returns a Sender calling api, or ErrBadConfig.
func New(api API, cfg Config) (*Sender, error) {
	if api == nil {
		return nil, fmt.Errorf("%w: no Firehose client", ErrBadConfig)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Sender{api: api, cfg: cfg.withDefaults()}, nil
}

// pending is an entry in flight: its position in the caller's slice and
// the last failure it had.
type pending struct {
	pos     int
	code    string
	message string
	err     error
}

// sendState is the bookkeeping of one Send.
type sendState struct {
	entries []Entry
	res     *Result
	stopAt  time.Time // zero without a deadline
	// cutoff is the smallest index not delivered so far: entries at or
	// past it are not sent, since the caller resends from there.
	cutoff int
	// stopped is set once the Sender must make no more calls.
	stopped error
}

func (st *sendState) fail(p pending, stream string, err error) {
	e := &st.entries[p.pos]
	st.res.Undelivered = append(st.res.Undelivered, &EntryError{
		Index: e.Index, Table: e.Table, Stream: stream, Code: p.code, Message: p.message, Err: err,
	})
	st.cutoff = min(st.cutoff, e.Index)
}

func (st *sendState) stop(err error) {
	if st.stopped == nil {
		st.stopped = err
	}
}

// chunk is one call's worth of entries (positions in the caller's slice)
// for one stream.
type chunk struct {
	stream string
	first  int // smallest index
	items  []int
}

// Send delivers entries, each to the delivery stream of its table, and
// reports by index the entries it refused and those not delivered.
//
// Entries go in calls of at most MaxRecords records and MaxRequestBytes
// bytes, made in the order of their smallest record index. An entry
// Firehose acknowledged is never sent again.
//
// Of a partial failure only the failed entries are sent again, after a
// backoff; throttling, 5xx answers and network errors are retried the
// same way. A call whose outcome is unknown (a 2xx answer that cannot be
// read, a connection lost after the request was written, a call cut short
// by AttemptTimeout) is sent again whole: delivery is at least once, and
// such records may be stored twice (Result.Unknown counts those calls).
//
// Send stops before ctx's deadline less DeadlineMargin, after
// MaxAttempts calls for one batch, or at an error that retrying does not
// clear. An entry at or past the index of one that failed is then not
// sent: the caller resends from there.
//
// The error is nil when every entry was delivered or refused; otherwise
// it wraps ErrUndelivered and the cause of the first undelivered entry.
func (s *Sender) Send(ctx context.Context, entries []Entry) (Result, error) {
	var res Result
	st := &sendState{entries: entries, res: &res, cutoff: math.MaxInt}
	if dl, ok := ctx.Deadline(); ok {
		st.stopAt = dl.Add(-s.cfg.DeadlineMargin)
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, st.stopAt)
		defer cancel()
	}
	var batch []pending
	for _, c := range s.plan(entries, &res) {
		batch = batch[:0]
		for _, pos := range c.items {
			p := pending{pos: pos}
			switch {
			case st.stopped != nil:
				st.fail(p, c.stream, st.stopped)
			case entries[pos].Index >= st.cutoff:
				st.fail(p, c.stream, ErrNotSent)
			default:
				batch = append(batch, p)
			}
		}
		if len(batch) > 0 {
			s.deliver(ctx, st, c.stream, batch)
		}
	}
	slices.SortStableFunc(res.Undelivered, func(a, b *EntryError) int { return a.Index - b.Index })
	slices.SortStableFunc(res.Refused, func(a, b *EntryError) int { return a.Index - b.Index })
	if len(res.Undelivered) == 0 {
		return res, nil
	}
	first := res.Undelivered[0]
	s.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "firehose records not delivered",
		slog.Int("undelivered", len(res.Undelivered)), slog.Int("first_index", first.Index),
		slog.Int("delivered", res.Delivered), slog.Int("calls", res.Calls), slog.String("cause", first.Error()))
	return res, fmt.Errorf("%w: %d of %d, from record %d: %w", ErrUndelivered, len(res.Undelivered), len(entries), first.Index, first)
}

// plan refuses the entries that cannot be sent, groups the others by
// stream in the caller's order, packs each stream's entries into calls,
// and orders the calls by their smallest index.
func (s *Sender) plan(entries []Entry, res *Result) []*chunk {
	type group struct {
		stream string
		items  []int
	}
	byStream := map[string]*group{}
	names := map[string]string{}
	var groups []*group
	for pos := range entries {
		e := &entries[pos]
		if len(e.Data) > s.cfg.MaxRecordBytes {
			res.Refused = append(res.Refused, &EntryError{Index: e.Index, Table: e.Table,
				Err: fmt.Errorf("%w: %d bytes", ErrRecordTooLarge, len(e.Data))})
			continue
		}
		name, ok := names[e.Table]
		if !ok {
			n, err := StreamName(s.cfg.Stream, e.Table)
			if err != nil {
				res.Refused = append(res.Refused, &EntryError{Index: e.Index, Table: e.Table, Err: err})
				continue
			}
			name, names[e.Table] = n, n
		}
		g := byStream[name]
		if g == nil {
			g = &group{stream: name}
			byStream[name] = g
			groups = append(groups, g)
		}
		g.items = append(g.items, pos)
	}
	var chunks []*chunk
	for _, g := range groups {
		budget := s.cfg.MaxRequestBytes - requestOverhead - len(g.stream)
		var c *chunk
		size := 0
		for _, pos := range g.items {
			n := base64.StdEncoding.EncodedLen(len(entries[pos].Data)) + recordOverhead
			if c == nil || len(c.items) == s.cfg.MaxRecords || size+n > budget {
				c = &chunk{stream: g.stream, first: entries[pos].Index}
				chunks = append(chunks, c)
				size = 0
			}
			c.items = append(c.items, pos)
			c.first = min(c.first, entries[pos].Index)
			size += n
		}
	}
	slices.SortStableFunc(chunks, func(a, b *chunk) int { return a.first - b.first })
	return chunks
}

// deliver sends batch until every entry is acknowledged or the Sender
// gives up on the rest.
func (s *Sender) deliver(ctx context.Context, st *sendState, stream string, batch []pending) {
	input := &awsfirehose.PutRecordBatchInput{DeliveryStreamName: aws.String(stream)}
	giveUp := func(cause error) {
		for _, p := range batch {
			st.fail(p, stream, cause)
		}
	}
	// unknown is set while the last call's outcome is unknown: the
	// records may be stored, and are reported so when given up.
	unknown := false
	stop := func(err error) {
		if unknown {
			err = fmt.Errorf("%w (%w)", err, ErrUnknownOutcome)
		}
		st.stop(err)
		giveUp(st.stopped)
	}
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			stop(fmt.Errorf("%w: %w", ErrDeadline, err))
			return
		}
		input.Records = input.Records[:0]
		for _, p := range batch {
			input.Records = append(input.Records, types.Record{Data: st.entries[p.pos].Data})
		}
		if attempt > 1 {
			st.res.Resent += len(batch)
		}
		callCtx, cancel := context.WithTimeout(ctx, s.cfg.AttemptTimeout)
		out, err := s.api.PutRecordBatch(callCtx, input)
		cut := err != nil && callCtx.Err() != nil
		cancel()
		st.res.Calls++
		var cause error
		unknown = false
		switch {
		case err != nil && ctx.Err() != nil:
			// The Send's own deadline: no time to send again.
			unknown = true
			st.res.Unknown++
			stop(fmt.Errorf("%w: %w", ErrDeadline, err))
			return
		case err != nil && cut:
			unknown = true
			st.res.Unknown++
			cause = fmt.Errorf("%w: no answer within %v: %w", ErrUnknownOutcome, s.cfg.AttemptTimeout, err)
		case err != nil:
			switch classify(err) {
			case outcomeRejected:
				giveUp(err)
				return
			case outcomeUnknown:
				unknown = true
				st.res.Unknown++
				cause = fmt.Errorf("%w: %w", ErrUnknownOutcome, err)
			default:
				cause = err
			}
		default:
			if batch = s.settle(st, stream, batch, out); len(batch) == 0 {
				return
			}
			if len(batch) > 0 && batch[0].err != nil {
				// An answer that does not say which records failed.
				unknown = true
				st.res.Unknown++
				cause = batch[0].err
			}
		}
		if cause != nil {
			for i := range batch {
				batch[i].code, batch[i].message, batch[i].err = "", "", cause
			}
		}
		// Entries at or past an undelivered index are resent by the
		// caller anyway.
		kept := batch[:0]
		for _, p := range batch {
			if st.entries[p.pos].Index >= st.cutoff {
				st.fail(p, stream, ErrNotSent)
			} else {
				kept = append(kept, p)
			}
		}
		if batch = kept; len(batch) == 0 {
			return
		}
		if attempt >= s.cfg.MaxAttempts {
			if cause != nil {
				giveUp(fmt.Errorf("%w after %d attempts: %w", ErrRetriesExhausted, attempt, cause))
			} else {
				giveUp(fmt.Errorf("%w after %d attempts", ErrRetriesExhausted, attempt))
			}
			return
		}
		d := s.backoff(attempt)
		s.cfg.Logger.LogAttrs(ctx, slog.LevelDebug, "firehose retry",
			slog.String("stream", stream), slog.Int("records", len(batch)), slog.Int("attempt", attempt),
			slog.Duration("backoff", d), slog.String("code", batch[0].code), slog.Bool("unknown", unknown),
			slog.Any("error", cause))
		if !st.stopAt.IsZero() && time.Now().Add(d).After(st.stopAt) {
			stop(fmt.Errorf("%w: no time left to retry", ErrDeadline))
			return
		}
		if err := s.cfg.Sleep(ctx, d); err != nil {
			stop(fmt.Errorf("%w: %w", ErrDeadline, err))
			return
		}
	}
}

// settle books the answer to a call and returns the entries to send again.
func (s *Sender) settle(st *sendState, stream string, batch []pending, out *awsfirehose.PutRecordBatchOutput) []pending {
	if len(out.RequestResponses) != len(batch) {
		if aws.ToInt32(out.FailedPutCount) == 0 {
			for _, p := range batch {
				st.res.Delivered++
				st.res.DeliveredBytes += int64(len(st.entries[p.pos].Data))
			}
			return nil
		}
		// Some records may be stored, others not, and the answer does
		// not say which: send them all again.
		err := fmt.Errorf("%w: %w: %d answers for %d records, %d failed", ErrUnknownOutcome, ErrBadResponse,
			len(out.RequestResponses), len(batch), aws.ToInt32(out.FailedPutCount))
		for i := range batch {
			batch[i].code, batch[i].message, batch[i].err = "", "", err
		}
		return batch
	}
	retry := batch[:0]
	for i, r := range out.RequestResponses {
		p := batch[i]
		code := aws.ToString(r.ErrorCode)
		if code == "" {
			st.res.Delivered++
			st.res.DeliveredBytes += int64(len(st.entries[p.pos].Data))
			continue
		}
		p.code, p.message, p.err = code, aws.ToString(r.ErrorMessage), nil
		if !retryableCode(code) {
			st.fail(p, stream, ErrRejected)
			continue
		}
		retry = append(retry, p)
	}
	return retry
}

// backoff returns the delay before retry number attempt (1-based): full
// jitter over an exponentially growing, capped window.
func (s *Sender) backoff(attempt int) time.Duration {
	d := s.cfg.BaseDelay
	for i := 1; i < attempt && d < s.cfg.MaxDelay; i++ {
		d *= 2
	}
	d = min(d, s.cfg.MaxDelay)
	return min(max(s.cfg.Jitter(d), 0), d)
}

// outcome is what a failed call says of its records.
type outcome int

const (
	// outcomeRejected: the service refused the call for a reason that
	// sending again does not clear (a missing stream, a bad request).
	outcomeRejected outcome = iota
	// outcomeRetry: the service refused the call for a passing reason
	// (throttling, a server error), or the request never left (no
	// connection): nothing was stored; send again.
	outcomeRetry
	// outcomeUnknown: the request may have been applied, but no readable
	// answer says so (a 2xx answer that cannot be read, a connection
	// lost after the request was written): send again.
	outcomeUnknown
)

// classify tells the outcome of a call that failed with err.
func classify(err error) outcome {
	var re *awshttp.ResponseError
	status := 0
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	switch {
	case status >= 200 && status < 300:
		return outcomeUnknown
	case status >= 500 || status == 429:
		return outcomeRetry
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		if transientCode(ae.ErrorCode()) {
			return outcomeRetry
		}
		return outcomeRejected
	}
	if status != 0 {
		return outcomeRejected // another 4xx, without a code
	}
	// No answer at all: a network error. Before the connection was made
	// nothing was sent; after, the request may have arrived.
	var op *net.OpError
	var dns *net.DNSError
	if errors.As(err, &dns) || errors.As(err, &op) && op.Op == "dial" {
		return outcomeRetry
	}
	return outcomeUnknown
}

// transientCode reports whether an API error code names a passing
// condition.
func transientCode(code string) bool {
	switch code {
	case "ServiceUnavailableException", "ServiceUnavailable", "InternalFailure", "InternalError",
		"InternalServerError", "ThrottlingException", "Throttling", "RequestTimeout",
		"RequestTimeoutException", "KMS.ThrottlingException":
		return true
	}
	return false
}

// retryableCode reports whether a per-record ErrorCode may clear on
// retry. Firehose's per-record codes are ServiceUnavailableException and
// InternalFailure, which clear, and KMS.* codes, which (but throttling)
// do not.
func retryableCode(code string) bool {
	return transientCode(code) || !strings.HasPrefix(code, "KMS.")
}
