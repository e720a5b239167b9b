package firehose_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsfirehose "github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/sink/firehose"
	"github.com/ddblake/ddblake/sink/firehose/firehosetest"
)

// sleeps records the backoffs a Sender asked for without waiting.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeps) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

// testConfig is a Config that does not wait: backoffs are recorded, and
// the jitter returns the whole window so the backoff schedule is visible.
func testConfig(sl *sleeps) firehose.Config {
	return firehose.Config{
		Stream:         "ddblake-{table}",
		BaseDelay:      10 * time.Millisecond,
		MaxDelay:       80 * time.Millisecond,
		DeadlineMargin: 20 * time.Millisecond,
		Jitter:         func(d time.Duration) time.Duration { return d },
		Sleep:          sl.sleep,
	}
}

func newSender(t *testing.T, api firehose.API, cfg firehose.Config) *firehose.Sender {
	t.Helper()
	s, err := firehose.New(api, cfg)
	require.NoError(t, err)
	return s
}

// makeEntries returns n entries of table, with indexes from first, each
// record of size bytes (at least 24), naming its table and index.
func makeEntries(table string, first, n, size int) []firehose.Entry {
	out := make([]firehose.Entry, n)
	for i := range out {
		idx := first + i
		head := fmt.Sprintf("%s|%d|", table, idx)
		data := make([]byte, max(size, len(head)+1))
		copy(data, head)
		for j := len(head); j < len(data)-1; j++ {
			data[j] = 'a' + byte((idx+j)%26)
		}
		data[len(data)-1] = '\n'
		out[i] = firehose.Entry{Table: table, Index: idx, Data: data}
	}
	return out
}

// id names a record by its table and index.
func id(data []byte) string {
	parts := bytes.SplitN(data, []byte("|"), 3)
	return string(parts[0]) + "|" + string(parts[1])
}

// deliveredCounts counts the fake's records by id, checking each was sent
// to its table's stream and arrived intact.
func deliveredCounts(t *testing.T, srv *firehosetest.Server, entries []firehose.Entry) map[string]int {
	t.Helper()
	byID := map[string]firehose.Entry{}
	for _, e := range entries {
		byID[id(e.Data)] = e
	}
	counts := map[string]int{}
	for _, r := range srv.Records() {
		k := id(r.Data)
		e, ok := byID[k]
		require.True(t, ok, "unknown record %q", k)
		require.Equal(t, "ddblake-"+e.Table, r.Stream)
		require.Equal(t, e.Data, r.Data)
		counts[k]++
	}
	return counts
}

func requireAllOnce(t *testing.T, srv *firehosetest.Server, entries []firehose.Entry) {
	t.Helper()
	counts := deliveredCounts(t, srv, entries)
	require.Len(t, counts, len(entries))
	for k, n := range counts {
		require.Equal(t, 1, n, "record %s delivered %d times", k, n)
	}
}

func undeliveredIndexes(res firehose.Result) []int {
	var out []int
	for _, e := range res.Undelivered {
		out = append(out, e.Index)
	}
	return out
}

func TestSendDelivers(t *testing.T) {
	srv := firehosetest.NewServer(t)
	srv.Streams("ddblake-chat_messages", "ddblake-chat_rooms")
	var sl sleeps
	s := newSender(t, srv.Client(), testConfig(&sl))
	entries := append(makeEntries("chat_messages", 0, 3, 40), makeEntries("chat_rooms", 3, 2, 40)...)
	res, err := s.Send(context.Background(), entries)
	require.NoError(t, err)
	requireAllOnce(t, srv, entries)
	require.Equal(t, 5, res.Delivered)
	require.Equal(t, int64(5*40), res.DeliveredBytes)
	require.Equal(t, 2, res.Calls, "one call per stream")
	require.Empty(t, res.Undelivered)
	require.Empty(t, res.Refused)
	_, ok := res.FirstUndelivered()
	require.False(t, ok)
	require.Empty(t, sl.all())
}

func TestSendBatchesByCount(t *testing.T) {
	srv := firehosetest.NewServer(t)
	s := newSender(t, srv.Client(), testConfig(&sleeps{}))
	entries := makeEntries("t", 0, 1234, 30)
	res, err := s.Send(context.Background(), entries)
	require.NoError(t, err)
	requireAllOnce(t, srv, entries)
	var sizes []int
	for _, c := range srv.Calls() {
		sizes = append(sizes, c.Records)
	}
	require.Equal(t, []int{500, 500, 234}, sizes)
	require.Equal(t, 3, res.Calls)
}

func TestSendBatchesBySize(t *testing.T) {
	srv := firehosetest.NewServer(t)
	s := newSender(t, srv.Client(), testConfig(&sleeps{}))
	// 45 records of 100 KiB: 4.4 MiB, more than one call can take.
	entries := makeEntries("t", 0, 45, 100<<10)
	res, err := s.Send(context.Background(), entries)
	require.NoError(t, err)
	requireAllOnce(t, srv, entries)
	calls := srv.Calls()
	require.Greater(t, len(calls), 1)
	require.Equal(t, len(calls), res.Calls)
	for i, c := range calls {
		require.LessOrEqual(t, c.BodyBytes, firehose.MaxBatchBytes, "call %d: request body within 4 MiB", i)
		require.LessOrEqual(t, c.RecordBytes, firehose.MaxBatchBytes)
		if i+1 < len(calls) {
			// Calls are filled: the next call's first record would not
			// have fitted in this one.
			next := base64.StdEncoding.EncodedLen(100 << 10)
			require.Greater(t, c.BodyBytes+next, firehose.MaxBatchBytes, "call %d could have held another record", i)
		}
	}
}

func TestSendRefusesOversizedRecords(t *testing.T) {
	srv := firehosetest.NewServer(t)
	s := newSender(t, srv.Client(), testConfig(&sleeps{}))
	entries := makeEntries("t", 0, 4, 100)
	entries[1] = makeEntries("t", 1, 1, firehose.MaxRecordBytes+1)[0]
	entries[2] = makeEntries("t", 2, 1, firehose.MaxRecordBytes)[0] // exactly the limit is fine
	res, err := s.Send(context.Background(), entries)
	require.NoError(t, err, "a refused record is for the quarantine, not a delivery failure")
	require.Len(t, res.Refused, 1)
	require.Equal(t, 1, res.Refused[0].Index)
	require.ErrorIs(t, res.Refused[0], firehose.ErrRecordTooLarge)
	require.Empty(t, res.Undelivered)
	counts := deliveredCounts(t, srv, entries)
	require.Equal(t, map[string]int{"t|0": 1, "t|2": 1, "t|3": 1}, counts)
	for _, r := range srv.Records() {
		require.LessOrEqual(t, len(r.Data), firehose.MaxRecordBytes)
	}
}

func TestSendRefusesBadStreamName(t *testing.T) {
	srv := firehosetest.NewServer(t)
	s := newSender(t, srv.Client(), testConfig(&sleeps{}))
	long := strings.Repeat("x", 60) // "ddblake-" + 60 > 64
	entries := append(makeEntries("ok", 0, 1, 30), makeEntries(long, 1, 1, 30)...)
	res, err := s.Send(context.Background(), entries)
	require.NoError(t, err)
	require.Len(t, res.Refused, 1)
	require.ErrorIs(t, res.Refused[0], firehose.ErrBadStreamName)
	require.Equal(t, 1, res.Delivered)
}

func TestSendPartialFailure(t *testing.T) {
	for _, code := range []string{firehosetest.CodeServiceUnavailable, firehosetest.CodeInternalFailure} {
		t.Run(code, func(t *testing.T) {
			srv := firehosetest.NewServer(t)
			srv.Script(firehosetest.Partial(code, 1, 3))
			var sl sleeps
			s := newSender(t, srv.Client(), testConfig(&sl))
			entries := makeEntries("t", 0, 5, 50)
			res, err := s.Send(context.Background(), entries)
			require.NoError(t, err)
			requireAllOnce(t, srv, entries)
			calls := srv.Calls()
			require.Len(t, calls, 2)
			require.Equal(t, 2, calls[1].Records, "only the failed entries are resent")
			var resent []string
			for _, r := range srv.Records() {
				if r.Call == 2 {
					resent = append(resent, id(r.Data))
				}
			}
			require.Equal(t, []string{"t|1", "t|3"}, resent)
			require.Equal(t, 2, res.Resent)
			require.Equal(t, []time.Duration{10 * time.Millisecond}, sl.all())
		})
	}
}

func TestSendRetriesCallErrors(t *testing.T) {
	for name, step := range map[string]firehosetest.Step{
		"throttled":    firehosetest.Throttle(),
		"500":          firehosetest.ServerError(),
		"502":          {Status: 502},
		"all failed":   {FailAll: firehosetest.CodeServiceUnavailable},
		"internal err": {ErrorType: "InternalFailure", ErrorMessage: "oops"},
	} {
		t.Run(name, func(t *testing.T) {
			srv := firehosetest.NewServer(t)
			srv.Script(step, step)
			var sl sleeps
			s := newSender(t, srv.Client(), testConfig(&sl))
			entries := makeEntries("t", 0, 7, 50)
			res, err := s.Send(context.Background(), entries)
			require.NoError(t, err)
			requireAllOnce(t, srv, entries)
			require.Equal(t, 3, res.Calls)
			require.Equal(t, 14, res.Resent)
			require.Equal(t, []time.Duration{10 * time.Millisecond, 20 * time.Millisecond}, sl.all())
		})
	}
}

func TestSendRetriesNetworkErrors(t *testing.T) {
	srv := firehosetest.NewServer(t)
	var sl sleeps
	api := &flakyAPI{next: srv.Client(), failures: 2}
	s := newSender(t, api, testConfig(&sl))
	entries := makeEntries("t", 0, 3, 50)
	res, err := s.Send(context.Background(), entries)
	require.NoError(t, err)
	requireAllOnce(t, srv, entries)
	require.Equal(t, 3, res.Calls)
	require.Len(t, sl.all(), 2)
}

// flakyAPI fails its first calls the way a broken connection does,
// before reaching the server.
type flakyAPI struct {
	next     firehose.API
	failures int
}

func (f *flakyAPI) PutRecordBatch(ctx context.Context, in *awsfirehose.PutRecordBatchInput, opts ...func(*awsfirehose.Options)) (*awsfirehose.PutRecordBatchOutput, error) {
	if f.failures > 0 {
		f.failures--
		return nil, &smithy.OperationError{ServiceID: "Firehose", OperationName: "PutRecordBatch",
			Err: fmt.Errorf("send request: %w", errors.New("read tcp: connection reset by peer"))}
	}
	return f.next.PutRecordBatch(ctx, in, opts...)
}

func TestSendBackoffSchedule(t *testing.T) {
	srv := firehosetest.NewServer(t)
	srv.Script(firehosetest.Throttle(), firehosetest.Throttle(), firehosetest.Throttle(),
		firehosetest.Throttle(), firehosetest.Throttle())
	var sl sleeps
	var windows []time.Duration
	cfg := testConfig(&sl)
	cfg.Jitter = func(d time.Duration) time.Duration {
		windows = append(windows, d)
		return d / 2
	}
	s := newSender(t, srv.Client(), cfg)
	_, err := s.Send(context.Background(), makeEntries("t", 0, 1, 30))
	require.NoError(t, err)
	ms := time.Millisecond
	require.Equal(t, []time.Duration{10 * ms, 20 * ms, 40 * ms, 80 * ms, 80 * ms}, windows, "doubling, capped")
	require.Equal(t, []time.Duration{5 * ms, 10 * ms, 20 * ms, 40 * ms, 40 * ms}, sl.all(), "the jittered delay is slept")
}

func TestSendJitterOutOfRangeIsClamped(t *testing.T) {
	srv := firehosetest.NewServer(t)
	srv.Script(firehosetest.Throttle(), firehosetest.Throttle())
	var sl sleeps
	cfg := testConfig(&sl)
	n := 0
	cfg.Jitter = func(d time.Duration) time.Duration {
		n++
		if n == 1 {
			return -time.Hour
		}
		return time.Hour
	}
	s := newSender(t, srv.Client(), cfg)
	_, err := s.Send(context.Background(), makeEntries("t", 0, 1, 30))
	require.NoError(t, err)
	require.Equal(t, []time.Duration{0, 20 * time.Millisecond}, sl.all())
}

func TestSendGivesUpAfterMaxAttempts(t *testing.T) {
	srv := firehosetest.NewServer(t)
	srv.ScriptFunc(func(call, records int) firehosetest.Step {
		switch call {
		case 1:
			return firehosetest.OK()
		case 2:
			return firehosetest.Partial(firehosetest.CodeServiceUnavailable, 1)
		}
		return firehosetest.Step{FailAll: firehosetest.CodeServiceUnavailable}
	})
	cfg := testConfig(&sleeps{})
	cfg.MaxAttempts = 3
	cfg.MaxRecords = 4
	s := newSender(t, srv.Client(), cfg)
	entries := makeEntries("t", 0, 10, 30)
	res, err := s.Send(context.Background(), entries)
	require.ErrorIs(t, err, firehose.ErrUndelivered)
	// Call 1 delivers 0-3. Call 2 sends 4-7 and 5 fails; calls 3 and 4
	// resend 5 alone and it fails again; 8 and 9 are not sent at all.
	counts := deliveredCounts(t, srv, entries)
	require.Equal(t, map[string]int{"t|0": 1, "t|1": 1, "t|2": 1, "t|3": 1, "t|4": 1, "t|6": 1, "t|7": 1}, counts)
	require.Equal(t, []int{5, 8, 9}, undeliveredIndexes(res))
	first, ok := res.FirstUndelivered()
	require.True(t, ok)
	require.Equal(t, 5, first)
	require.ErrorIs(t, res.Undelivered[0], firehose.ErrRetriesExhausted)
	require.Equal(t, firehosetest.CodeServiceUnavailable, res.Undelivered[0].Code)
	require.ErrorIs(t, res.Undelivered[1], firehose.ErrNotSent)
	require.Equal(t, 4, res.Calls)
}

func TestSendStopsAtNonRetryableError(t *testing.T) {
	srv := firehosetest.NewServer(t)
	srv.Streams("ddblake-a") // ddblake-b does not exist
	var sl sleeps
	cfg := testConfig(&sl)
	cfg.MaxRecords = 2
	s := newSender(t, srv.Client(), cfg)
	// Records 0-1 and 4-5 go to a, 2-3 to b.
	entries := append(append(makeEntries("a", 0, 2, 30), makeEntries("b", 2, 2, 30)...), makeEntries("a", 4, 2, 30)...)
	res, err := s.Send(context.Background(), entries)
	require.ErrorIs(t, err, firehose.ErrUndelivered)
	var ae smithy.APIError
	require.ErrorAs(t, res.Undelivered[0], &ae)
	require.Equal(t, firehosetest.CodeResourceNotFound, ae.ErrorCode())
	require.Empty(t, sl.all(), "not retried")
	// Calls go in index order: a's 0-1 are delivered, b's 2-3 fail and
	// are not retried, and a's 4-5 are left for the caller to resend.
	require.Equal(t, []int{2, 3, 4, 5}, undeliveredIndexes(res))
	require.ErrorIs(t, res.Undelivered[2], firehose.ErrNotSent)
	require.Equal(t, 2, res.Delivered)
	require.Equal(t, 2, res.Calls)
}

func TestSendRejectedRecord(t *testing.T) {
	srv := firehosetest.NewServer(t)
	srv.Script(firehosetest.Partial("KMS.DisabledException", 2))
	cfg := testConfig(&sleeps{})
	cfg.MaxRecords = 5
	s := newSender(t, srv.Client(), cfg)
	entries := makeEntries("t", 0, 12, 30)
	res, err := s.Send(context.Background(), entries)
	require.ErrorIs(t, err, firehose.ErrUndelivered)
	require.Equal(t, 1, res.Calls, "a KMS error is not retried, and records after it are left to the caller")
	require.Equal(t, 2, res.Undelivered[0].Index)
	require.ErrorIs(t, res.Undelivered[0], firehose.ErrRejected)
	require.Equal(t, "KMS.DisabledException", res.Undelivered[0].Code)
	require.Equal(t, []int{2, 5, 6, 7, 8, 9, 10, 11}, undeliveredIndexes(res))
	require.Equal(t, 4, res.Delivered, "0, 1, 3, 4 were in the same call")
}

func TestSendSharedIndex(t *testing.T) {
	// Two rows of one record (index 1): when one fails for good, the
	// other is not resent, since the caller resends the whole record.
	srv := firehosetest.NewServer(t)
	srv.Script(firehosetest.Step{Fail: map[int]string{1: "KMS.AccessDeniedException", 2: firehosetest.CodeServiceUnavailable}})
	s := newSender(t, srv.Client(), testConfig(&sleeps{}))
	entries := makeEntries("t", 0, 4, 30)
	entries[2].Index = 1
	entries[3].Index = 2
	res, err := s.Send(context.Background(), entries)
	require.Error(t, err)
	require.Equal(t, 1, res.Calls)
	require.Equal(t, []int{1, 1}, undeliveredIndexes(res))
	require.ErrorIs(t, res.Undelivered[0], firehose.ErrRejected)
	require.ErrorIs(t, res.Undelivered[1], firehose.ErrNotSent)
	require.Equal(t, firehosetest.CodeServiceUnavailable, res.Undelivered[1].Code, "the last failure is kept")
	require.Equal(t, 2, res.Delivered)
}

func TestSendDeadline(t *testing.T) {
	// The server holds slow calls until the client gives up: only the
	// Sender's deadline ends them.
	hold := func(int, int) firehosetest.Step { return firehosetest.Slow(time.Hour) }
	t.Run("every call slow", func(t *testing.T) {
		srv := firehosetest.NewServer(t)
		srv.ScriptFunc(hold)
		cfg := testConfig(&sleeps{})
		// The margin leaves 1.5 s between giving up and the deadline:
		// slack for a loaded machine.
		cfg.DeadlineMargin = 1500 * time.Millisecond
		s := newSender(t, srv.Client(), cfg)
		entries := makeEntries("t", 0, 600, 30)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		res, err := s.Send(ctx, entries)
		require.NoError(t, ctx.Err(), "returns before the deadline")
		deadline, _ := ctx.Deadline()
		require.LessOrEqual(t, time.Until(deadline), cfg.DeadlineMargin, "waits for the answer until the margin")
		require.ErrorIs(t, err, firehose.ErrUndelivered)
		require.ErrorIs(t, err, firehose.ErrDeadline)
		require.ErrorIs(t, err, firehose.ErrUnknownOutcome, "the call was in flight")
		require.Len(t, res.Undelivered, 600)
		require.Equal(t, 1, res.Calls)
		require.Equal(t, 1, res.Unknown)
		require.Empty(t, srv.Records())
	})
	t.Run("second call slow", func(t *testing.T) {
		srv := firehosetest.NewServer(t)
		srv.Script(firehosetest.OK())
		srv.ScriptFunc(hold)
		cfg := testConfig(&sleeps{})
		cfg.DeadlineMargin = time.Second
		s := newSender(t, srv.Client(), cfg)
		entries := makeEntries("t", 0, 1100, 30)
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		res, err := s.Send(ctx, entries)
		require.NoError(t, ctx.Err(), "returns before the deadline")
		require.ErrorIs(t, err, firehose.ErrDeadline)
		first, ok := res.FirstUndelivered()
		require.True(t, ok)
		require.Equal(t, 500, first)
		require.Len(t, res.Undelivered, 600)
		require.Equal(t, 500, res.Delivered)
		counts := deliveredCounts(t, srv, entries)
		require.Len(t, counts, 500)
		for i := range 500 {
			require.Equal(t, 1, counts["t|"+strconv.Itoa(i)])
		}
		require.Eventually(t, func() bool { return srv.Calls()[1].Abandoned }, 10*time.Second, 10*time.Millisecond)
	})
	t.Run("no time to back off", func(t *testing.T) {
		srv := firehosetest.NewServer(t)
		srv.ScriptFunc(func(int, int) firehosetest.Step { return firehosetest.Throttle() })
		sl := &sleeps{}
		cfg := testConfig(sl)
		cfg.BaseDelay, cfg.MaxDelay = time.Hour, time.Hour
		s := newSender(t, srv.Client(), cfg)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		res, err := s.Send(ctx, makeEntries("t", 0, 3, 30))
		require.Empty(t, sl.all(), "does not start a backoff that outlives the deadline")
		require.ErrorIs(t, err, firehose.ErrDeadline)
		require.NotErrorIs(t, err, firehose.ErrUnknownOutcome, "a throttled call stored nothing")
		require.Len(t, res.Undelivered, 3)
		require.Equal(t, 1, res.Calls)
	})
	t.Run("cancelled", func(t *testing.T) {
		srv := firehosetest.NewServer(t)
		s := newSender(t, srv.Client(), testConfig(&sleeps{}))
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		res, err := s.Send(ctx, makeEntries("t", 0, 3, 30))
		require.ErrorIs(t, err, firehose.ErrDeadline)
		require.Len(t, res.Undelivered, 3)
		require.Zero(t, res.Calls)
	})
}

// TestSendUnknownOutcome covers the calls whose records Firehose stored
// while the Sender could not learn it: they are sent again, within the
// attempts, and only their records may be stored twice.
func TestSendUnknownOutcome(t *testing.T) {
	for name, step := range map[string]firehosetest.Step{
		"stored, then the connection dropped": firehosetest.Dropped(),
		"stored, then 200 with half a body":   firehosetest.Truncated(),
		"some stored, then dropped":           {Drop: true, Fail: map[int]string{1: firehosetest.CodeServiceUnavailable}},
	} {
		t.Run(name, func(t *testing.T) {
			srv := firehosetest.NewServer(t)
			srv.Script(firehosetest.OK(), step)
			var sl sleeps
			cfg := testConfig(&sl)
			cfg.MaxRecords = 4
			s := newSender(t, srv.Client(), cfg)
			entries := makeEntries("t", 0, 10, 40)
			res, err := s.Send(context.Background(), entries)
			require.NoError(t, err, "an unknown outcome is retried, not reported")
			require.Equal(t, 10, res.Delivered)
			require.Equal(t, 1, res.Unknown)
			require.Equal(t, 4, res.Resent, "the whole call is sent again")
			require.Equal(t, 4, res.Calls)
			require.Len(t, sl.all(), 1)
			// Records 4-7 (call 2) may be stored twice; no other record is.
			calls := srv.Calls()
			require.True(t, calls[1].Unanswered)
			counts := deliveredCounts(t, srv, entries)
			for i := range 10 {
				k := "t|" + strconv.Itoa(i)
				if i >= 4 && i < 8 && (i != 5 || step.Fail == nil) {
					require.Equal(t, 2, counts[k], k)
				} else {
					require.Equal(t, 1, counts[k], k)
				}
			}
		})
	}
	t.Run("attempt cut short", func(t *testing.T) {
		srv := firehosetest.NewServer(t)
		srv.Script(firehosetest.Slow(time.Hour))
		cfg := testConfig(&sleeps{})
		// Long enough for the second call to be answered on a loaded
		// machine: only the held first call is cut.
		cfg.AttemptTimeout = time.Second
		s := newSender(t, srv.Client(), cfg)
		entries := makeEntries("t", 0, 3, 40)
		res, err := s.Send(context.Background(), entries)
		require.NoError(t, err)
		require.Equal(t, 1, res.Unknown)
		require.Equal(t, 2, res.Calls)
		requireAllOnce(t, srv, entries)
		require.Eventually(t, func() bool { return srv.Calls()[0].Abandoned }, 10*time.Second, 10*time.Millisecond)
	})
	t.Run("given up: reported as maybe stored", func(t *testing.T) {
		srv := firehosetest.NewServer(t)
		srv.ScriptFunc(func(int, int) firehosetest.Step { return firehosetest.Dropped() })
		cfg := testConfig(&sleeps{})
		cfg.MaxAttempts = 2
		s := newSender(t, srv.Client(), cfg)
		entries := makeEntries("t", 0, 3, 40)
		res, err := s.Send(context.Background(), entries)
		require.ErrorIs(t, err, firehose.ErrUndelivered)
		require.ErrorIs(t, err, firehose.ErrRetriesExhausted)
		require.ErrorIs(t, err, firehose.ErrUnknownOutcome)
		require.Equal(t, []int{0, 1, 2}, undeliveredIndexes(res))
		require.Equal(t, 2, res.Unknown)
		require.Len(t, srv.Records(), 6, "stored by both calls, though reported undelivered")
	})
}

// errAPI fails every call with err.
type errAPI struct{ err error }

func (a errAPI) PutRecordBatch(context.Context, *awsfirehose.PutRecordBatchInput, ...func(*awsfirehose.Options)) (*awsfirehose.PutRecordBatchOutput, error) {
	return nil, a.err
}

// TestSendClassifiesErrors checks which call errors are retried and which
// of those leave the outcome unknown, on errors shaped as the SDK returns
// them.
func TestSendClassifiesErrors(t *testing.T) {
	opErr := func(status int, err error) error {
		return &smithy.OperationError{ServiceID: "Firehose", OperationName: "PutRecordBatch",
			Err: &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
				Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}}, Err: err}}}
	}
	for _, tc := range []struct {
		name    string
		err     error
		calls   int // with MaxAttempts 2
		unknown int
	}{
		{"200, unreadable body", opErr(200, &smithy.DeserializationError{Err: errors.New("use of closed network connection")}), 2, 2},
		{"connection reset after sending", opErr(0, &smithyhttp.RequestSendError{Err: &net.OpError{Op: "read", Err: syscall.ECONNRESET}}), 2, 2},
		{"EOF before the answer", opErr(0, &smithyhttp.RequestSendError{Err: io.EOF}), 2, 2},
		{"read timeout", opErr(0, &smithyhttp.RequestSendError{Err: &net.OpError{Op: "read", Err: os.ErrDeadlineExceeded}}), 2, 2},
		{"connection refused", opErr(0, &smithyhttp.RequestSendError{Err: &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}}), 2, 0},
		{"no such host", opErr(0, &smithyhttp.RequestSendError{Err: &net.DNSError{Err: "no such host", Name: "x"}}), 2, 0},
		{"503", opErr(503, errors.New("unavailable")), 2, 0},
		{"throttled", opErr(400, &smithy.GenericAPIError{Code: "ThrottlingException"}), 2, 0},
		{"no such stream", opErr(400, &smithy.GenericAPIError{Code: firehosetest.CodeResourceNotFound}), 1, 0},
		{"403 without a code", opErr(403, errors.New("forbidden")), 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(&sleeps{})
			cfg.MaxAttempts = 2
			s := newSender(t, errAPI{tc.err}, cfg)
			res, err := s.Send(context.Background(), makeEntries("t", 0, 2, 30))
			require.ErrorIs(t, err, firehose.ErrUndelivered)
			require.Equal(t, tc.calls, res.Calls)
			require.Equal(t, tc.unknown, res.Unknown)
			require.Equal(t, tc.unknown > 0, errors.Is(err, firehose.ErrUnknownOutcome))
		})
	}
}

// TestSendEveryRecordOnceOrReported runs random failure scripts, unknown
// outcomes included, and checks the sender's promise: every record is
// acknowledged and stored, or reported (undelivered or refused); a record
// is stored twice, or stored although reported, only when a call that
// stored it went unanswered (its outcome was unknown to the sender).
func TestSendEveryRecordOnceOrReported(t *testing.T) {
	rounds := 60
	if testing.Short() {
		rounds = 15
	}
	for round := range rounds {
		rng := rand.New(rand.NewPCG(uint64(round), 7))
		srv := firehosetest.NewServer(t)
		failRate := rng.Float64() * 0.6
		var mu sync.Mutex
		srv.ScriptFunc(func(call, records int) firehosetest.Step {
			mu.Lock()
			defer mu.Unlock()
			if rng.Float64() >= failRate {
				return firehosetest.OK()
			}
			switch rng.IntN(8) {
			case 0:
				return firehosetest.Throttle()
			case 1:
				return firehosetest.ServerError()
			case 2:
				if rng.IntN(4) == 0 {
					return firehosetest.Partial("KMS.InvalidStateException", rng.IntN(records))
				}
				fallthrough
			case 3, 4, 5:
				fail := map[int]string{}
				for i := range records {
					if rng.IntN(3) == 0 {
						fail[i] = []string{firehosetest.CodeServiceUnavailable, firehosetest.CodeInternalFailure}[rng.IntN(2)]
					}
				}
				return firehosetest.Step{Fail: fail}
			case 6:
				return firehosetest.Dropped()
			}
			return firehosetest.Truncated()
		})
		cfg := testConfig(&sleeps{})
		cfg.MaxAttempts = 1 + rng.IntN(6)
		cfg.MaxRecords = 1 + rng.IntN(firehose.MaxBatchRecords)
		s := newSender(t, srv.Client(), cfg)

		var entries []firehose.Entry
		for idx := 0; idx < 1+rng.IntN(1500); idx++ {
			table := []string{"a", "b", "c"}[rng.IntN(3)]
			size := 20 + rng.IntN(200)
			if rng.IntN(200) == 0 {
				size = firehose.MaxRecordBytes + 1
			}
			entries = append(entries, makeEntries(table, idx, 1, size)[0])
			if rng.IntN(10) == 0 { // a second row of the same record, with its own id
				data := fmt.Appendf(nil, "%s|%d.2|second row\n", table, idx)
				entries = append(entries, firehose.Entry{Table: table, Index: idx, Data: data})
			}
		}
		res, err := s.Send(context.Background(), entries)
		requireStoredOrReported(t, srv, entries, res, fmt.Sprintf("round %d", round))
		require.Equal(t, len(res.Undelivered) > 0, err != nil)
		require.Len(t, srv.Calls(), res.Calls)
	}
}

// requireStoredOrReported checks the Sender's promise on the fake's log:
// each entry is stored by an acknowledged call (exactly once), or is
// reported; more copies, and copies of reported entries, come only from
// unanswered calls; records before the first undelivered index are all
// stored or refused.
func requireStoredOrReported(t *testing.T, srv *firehosetest.Server, entries []firehose.Entry, res firehose.Result, what string) {
	t.Helper()
	deliveredCounts(t, srv, entries) // each stored record is one of entries, intact
	unanswered := map[int]bool{}
	for _, c := range srv.Calls() {
		unanswered[c.N] = c.Unanswered
	}
	acked, blind := map[string]int{}, map[string]int{}
	for _, r := range srv.Records() {
		if unanswered[r.Call] {
			blind[id(r.Data)]++
		} else {
			acked[id(r.Data)]++
		}
	}
	reported := map[string]bool{}
	for _, list := range [][]*firehose.EntryError{res.Undelivered, res.Refused} {
		for _, e := range list {
			reported[fmt.Sprintf("%s|%d", e.Table, e.Index)] = true
		}
	}
	total := 0
	for _, e := range entries {
		k := id(e.Data)
		rep := reported[fmt.Sprintf("%s|%d", e.Table, e.Index)]
		total += acked[k]
		require.LessOrEqual(t, acked[k], 1, "%s: %s acknowledged %d times", what, k, acked[k])
		require.True(t, acked[k] == 1 || rep, "%s: %s neither acknowledged nor reported (stored %d times unanswered)", what, k, blind[k])
	}
	require.Equal(t, total, res.Delivered, "%s: acknowledged copies", what)
	require.Equal(t, len(entries), res.Delivered+len(res.Undelivered)+len(res.Refused), "%s: each entry counted once", what)
	if first, ok := res.FirstUndelivered(); ok {
		for _, e := range res.Undelivered {
			require.GreaterOrEqual(t, e.Index, first)
		}
		for _, e := range entries {
			if e.Index < first {
				require.True(t, acked[id(e.Data)] == 1 || reported[fmt.Sprintf("%s|%d", e.Table, e.Index)], "%s: %s", what, id(e.Data))
			}
		}
	}
}

// answerAPI answers every call with a fixed output.
type answerAPI struct {
	out *awsfirehose.PutRecordBatchOutput
}

func (a answerAPI) PutRecordBatch(context.Context, *awsfirehose.PutRecordBatchInput, ...func(*awsfirehose.Options)) (*awsfirehose.PutRecordBatchOutput, error) {
	return a.out, nil
}

func TestSendMalformedResponse(t *testing.T) {
	entries := makeEntries("t", 0, 3, 30)
	t.Run("failures it cannot place", func(t *testing.T) {
		cfg := testConfig(&sleeps{})
		cfg.MaxAttempts = 3
		s := newSender(t, answerAPI{&awsfirehose.PutRecordBatchOutput{FailedPutCount: aws.Int32(1),
			RequestResponses: []types.PutRecordBatchResponseEntry{{RecordId: aws.String("x")}}}}, cfg)
		res, err := s.Send(context.Background(), entries)
		require.ErrorIs(t, err, firehose.ErrBadResponse)
		require.ErrorIs(t, err, firehose.ErrUnknownOutcome)
		require.Len(t, res.Undelivered, 3)
		require.Equal(t, 3, res.Calls, "resent whole: some may have been stored, some not")
		require.Equal(t, 3, res.Unknown)
	})
	t.Run("no failures", func(t *testing.T) {
		s := newSender(t, answerAPI{&awsfirehose.PutRecordBatchOutput{FailedPutCount: aws.Int32(0)}}, testConfig(&sleeps{}))
		res, err := s.Send(context.Background(), entries)
		require.NoError(t, err)
		require.Equal(t, 3, res.Delivered)
	})
}

func TestConfigValidate(t *testing.T) {
	ok := firehose.Config{Stream: "s"}
	for name, tc := range map[string]struct {
		mod  func(*firehose.Config)
		fail bool
	}{
		"minimal":           {func(*firehose.Config) {}, false},
		"template":          {func(c *firehose.Config) { c.Stream = "ddblake-{table}" }, false},
		"no stream":         {func(c *firehose.Config) { c.Stream = "" }, true},
		"bad stream":        {func(c *firehose.Config) { c.Stream = "a b" }, true},
		"stream too long":   {func(c *firehose.Config) { c.Stream = strings.Repeat("s", 65) }, true},
		"too many records":  {func(c *firehose.Config) { c.MaxRecords = 501 }, true},
		"fewer records":     {func(c *firehose.Config) { c.MaxRecords = 10 }, false},
		"request too large": {func(c *firehose.Config) { c.MaxRequestBytes = 4<<20 + 1 }, true},
		"request too small": {func(c *firehose.Config) { c.MaxRequestBytes = 10 }, true},
		"record too large":  {func(c *firehose.Config) { c.MaxRecordBytes = 1000<<10 + 1 }, true},
		"negative attempts": {func(c *firehose.Config) { c.MaxAttempts = -1 }, true},
		"negative margin":   {func(c *firehose.Config) { c.DeadlineMargin = -time.Second }, true},
		"base over max": {func(c *firehose.Config) {
			c.BaseDelay, c.MaxDelay = time.Second, time.Millisecond
		}, true},
	} {
		t.Run(name, func(t *testing.T) {
			c := ok
			tc.mod(&c)
			err := c.Validate()
			if tc.fail {
				require.ErrorIs(t, err, firehose.ErrBadConfig)
				_, err = firehose.New(answerAPI{}, c)
				require.ErrorIs(t, err, firehose.ErrBadConfig)
			} else {
				require.NoError(t, err)
			}
		})
	}
	_, err := firehose.New(nil, ok)
	require.ErrorIs(t, err, firehose.ErrBadConfig)
}

func TestStreamName(t *testing.T) {
	for _, tc := range []struct {
		template, table, want string
	}{
		{"ddblake-{table}", "chat_messages", "ddblake-chat_messages"},
		{"{table}", "chat_messages", "chat_messages"},
		{"{table}-{table}", "t", "t-t"},
		{"all-tables", "chat_messages", "all-tables"},
		{"ddblake-{table}", strings.Repeat("x", 56), "ddblake-" + strings.Repeat("x", 56)},
		{"ddblake-{table}", strings.Repeat("x", 57), ""},
		{"bad/{table}", "t", ""},
		{"{table}", "", ""},
	} {
		got, err := firehose.StreamName(tc.template, tc.table)
		if tc.want == "" {
			require.ErrorIs(t, err, firehose.ErrBadStreamName, "%s %s", tc.template, tc.table)
			continue
		}
		require.NoError(t, err)
		require.Equal(t, tc.want, got)
	}
}

// BenchmarkSend measures records through the real SDK client to the fake
// server: request serialization, base64 and the sender's bookkeeping.
func BenchmarkSend(b *testing.B) {
	srv := firehosetest.NewServer(b)
	s, err := firehose.New(srv.Client(), firehose.Config{Stream: "ddblake-{table}"})
	require.NoError(b, err)
	entries := makeEntries("t", 0, 2000, 400)
	total := 0
	for _, e := range entries {
		total += len(e.Data)
	}
	b.SetBytes(int64(total))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.Send(context.Background(), entries); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)*float64(len(entries))/b.Elapsed().Seconds(), "rows/s")
}
