package firehose_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/flatten"
	"github.com/ddblake/ddblake/schemas"
	"github.com/ddblake/ddblake/sink"
	"github.com/ddblake/ddblake/sink/firehose"
	"github.com/ddblake/ddblake/sink/firehose/firehosetest"
)

// noWait is a Sleep that does not wait.
func noWait(ctx context.Context, _ time.Duration) error { return ctx.Err() }

func destination(t *testing.T, srv *firehosetest.Server, attempts int) *firehose.Destination {
	t.Helper()
	sender, err := firehose.New(srv.Client(), firehose.Config{
		Stream: "ddblake-{table}", MaxAttempts: attempts, Sleep: noWait,
		DeadlineMargin: 10 * time.Millisecond,
	})
	require.NoError(t, err)
	return firehose.NewDestination(sender)
}

// messagesTable is a table with a body column, and n rows whose sequence
// numbers name them; the rows listed in big carry a body over Firehose's
// record limit.
func messagesTable(t *testing.T, n int, big ...int) (*sink.Table, []flatten.Row) {
	t.Helper()
	s := schemas.NewSchema("chat_messages")
	_, err := s.Add(schemas.Column{Name: "body", Path: "body", Type: schemas.Type{Kind: schemas.KindString}})
	require.NoError(t, err)
	rows := make([]flatten.Row, n)
	for i := range rows {
		body := fmt.Sprintf("메시지 %d", i)
		for _, b := range big {
			if b == i {
				body = strings.Repeat("x", firehose.MaxRecordBytes+1)
			}
		}
		rows[i] = flatten.Row{
			Meta:   flatten.Meta{EventName: "INSERT", EventTime: 1775012400000 + int64(i), Sequence: fmt.Sprintf("%040d", i)},
			Values: []flatten.Datum{{Valid: true, Str: body}},
		}
	}
	return &sink.Table{Name: "chat_messages", Schema: s}, rows
}

// deliveredRows counts the delivered records by row (their sequence
// number), checking each went to the table's stream and reads back as
// the row's values.
func deliveredRows(t *testing.T, srv *firehosetest.Server, rows []flatten.Row) map[int]int {
	t.Helper()
	bySeq := map[string]int{}
	for i, r := range rows {
		bySeq[r.Sequence] = i
	}
	counts := map[int]int{}
	for _, rec := range srv.Records() {
		require.Equal(t, "ddblake-chat_messages", rec.Stream)
		var m map[string]any
		require.NoError(t, json.Unmarshal(rec.Data, &m))
		i, ok := bySeq[m["_sequence_number"].(string)]
		require.True(t, ok, "unknown record %s", rec.Data)
		require.Equal(t, rows[i].Values[0].Str, m["body"])
		require.Equal(t, "2026-04-01", m["dt"])
		counts[i]++
	}
	return counts
}

// requireOnceOrReported checks the destination's promise: every row is
// acknowledged and stored, or reported as failed or set aside. A row is
// stored more than once, or stored although reported failed, only when a
// call that stored it went unanswered (its outcome was unknown to the
// destination, which sent it again): over HTTP, "exactly once" cannot
// hold. It returns the acknowledged copies of each row.
func requireOnceOrReported(t *testing.T, srv *firehosetest.Server, rows []flatten.Row, d sink.Delivery) map[int]int {
	t.Helper()
	deliveredRows(t, srv, rows) // every stored record is a row, intact
	unanswered := map[int]bool{}
	for _, c := range srv.Calls() {
		unanswered[c.N] = c.Unanswered
	}
	bySeq := map[string]int{}
	for i, r := range rows {
		bySeq[r.Sequence] = i
	}
	acked, blind := map[int]int{}, map[int]int{}
	for _, rec := range srv.Records() {
		var m map[string]any
		require.NoError(t, json.Unmarshal(rec.Data, &m))
		i := bySeq[m["_sequence_number"].(string)]
		if unanswered[rec.Call] {
			blind[i]++
		} else {
			acked[i]++
		}
	}
	failed := map[int]bool{}
	for _, i := range d.Failed {
		require.False(t, failed[i], "row %d reported failed twice", i)
		failed[i] = true
	}
	total := 0
	for i := range rows {
		_, aside := d.SetAside[i]
		total += acked[i]
		require.LessOrEqual(t, acked[i], 1, "row %d acknowledged %d times", i, acked[i])
		reported := 0
		for _, b := range []bool{acked[i] == 1, failed[i], aside} {
			if b {
				reported++
			}
		}
		require.Equal(t, 1, reported, "row %d: acknowledged %d, failed %v, set aside %v", i, acked[i], failed[i], aside)
		if aside {
			require.Zero(t, blind[i], "row %d set aside yet sent", i)
		}
	}
	require.Equal(t, total, d.Files, "acknowledged rows")
	return acked
}

func TestDestinationWrite(t *testing.T) {
	kms := "KMS.DisabledException"
	for _, tc := range []struct {
		name     string
		rows     int
		big      []int
		steps    []firehosetest.Step
		attempts int
		failed   []int // rows reported failed
		aside    []int // rows set aside
		calls    int
	}{
		{name: "all delivered", rows: 30, calls: 1},
		{name: "partial failure resends only the failed", rows: 30,
			steps: []firehosetest.Step{firehosetest.Partial(firehosetest.CodeServiceUnavailable, 3, 17, 29)}, calls: 2},
		{name: "throttled then accepted", rows: 30,
			steps: []firehosetest.Step{firehosetest.Throttle(), firehosetest.Throttle()}, calls: 3},
		{name: "500 then accepted", rows: 30,
			steps: []firehosetest.Step{firehosetest.ServerError()}, calls: 2},
		{name: "oversized row set aside, not sent", rows: 30, big: []int{4}, aside: []int{4}, calls: 1},
		{name: "rejected record fails it and every later one", rows: 30,
			steps: []firehosetest.Step{firehosetest.Partial(kms, 12)},
			// 13-29 were acknowledged in the same call: only 12 failed.
			failed: []int{12}, calls: 1},
		{name: "retries exhausted", rows: 30, attempts: 3,
			steps:  []firehosetest.Step{firehosetest.ServerError(), firehosetest.Throttle(), firehosetest.Partial(firehosetest.CodeInternalFailure, 5)},
			failed: []int{5}, calls: 3},
		{name: "many calls, a later call fails for good", rows: 1200,
			steps:  []firehosetest.Step{firehosetest.OK(), firehosetest.Step{FailAll: kms}},
			failed: seq(500, 1200), calls: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := firehosetest.NewServer(t)
			srv.Script(tc.steps...)
			table, rows := messagesTable(t, tc.rows, tc.big...)
			d, err := destination(t, srv, tc.attempts).Write(context.Background(), "batch", table, rows)
			if len(tc.failed) > 0 {
				require.ErrorIs(t, err, firehose.ErrUndelivered)
			} else {
				require.NoError(t, err)
			}
			requireOnceOrReported(t, srv, rows, d)
			require.Equal(t, tc.failed, d.Failed)
			var aside []int
			for i, why := range d.SetAside {
				require.ErrorIs(t, why, firehose.ErrRecordTooLarge)
				aside = append(aside, i)
			}
			require.ElementsMatch(t, tc.aside, aside)
			require.Len(t, srv.Calls(), tc.calls)
			for _, c := range srv.Calls() {
				require.Less(t, c.RecordBytes, firehose.MaxRecordBytes*2, "the oversized row is never sent")
			}
		})
	}
}

func seq(from, to int) []int {
	var out []int
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

// TestDestinationEveryRowOnceOrReported runs random failure scripts,
// unknown outcomes (stored, then unanswered) included.
func TestDestinationEveryRowOnceOrReported(t *testing.T) {
	rounds := 15
	if testing.Short() {
		rounds = 5
	}
	for round := range rounds {
		rng := rand.New(rand.NewPCG(uint64(round), 11))
		var mu sync.Mutex
		srv := firehosetest.NewServer(t)
		srv.ScriptFunc(func(_, records int) firehosetest.Step {
			mu.Lock()
			defer mu.Unlock()
			switch rng.IntN(7) {
			case 0:
				return firehosetest.Throttle()
			case 1:
				return firehosetest.ServerError()
			case 2:
				return firehosetest.Partial("KMS.InvalidStateException", rng.IntN(records))
			case 3:
				fail := map[int]string{}
				for i := range records {
					if rng.IntN(4) == 0 {
						fail[i] = firehosetest.CodeServiceUnavailable
					}
				}
				return firehosetest.Step{Fail: fail}
			case 4:
				if rng.IntN(2) == 0 {
					return firehosetest.Dropped()
				}
				return firehosetest.Truncated()
			}
			return firehosetest.OK()
		})
		n := 1 + rng.IntN(700)
		var big []int
		if rng.IntN(3) == 0 {
			big = append(big, rng.IntN(n))
		}
		table, rows := messagesTable(t, n, big...)
		d, err := destination(t, srv, 1+rng.IntN(5)).Write(context.Background(), "b", table, rows)
		require.Equal(t, len(d.Failed) > 0, err != nil, "round %d", round)
		requireOnceOrReported(t, srv, rows, d)
		require.Len(t, d.SetAside, len(big), "round %d", round)
	}
}

// TestDestinationDeadline: against a Firehose that does not answer, Write
// gives up at the deadline less the margin, and reports every row failed.
func TestDestinationDeadline(t *testing.T) {
	srv := firehosetest.NewServer(t)
	srv.ScriptFunc(func(int, int) firehosetest.Step { return firehosetest.Slow(time.Minute) })
	table, rows := messagesTable(t, 10)
	sender, err := firehose.New(srv.Client(), firehose.Config{Stream: "ddblake-{table}", Sleep: noWait, DeadlineMargin: 1500 * time.Millisecond})
	require.NoError(t, err)
	// The margin leaves 1.5 s between giving up and the deadline: slack
	// for a loaded machine.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	d, err := firehose.NewDestination(sender).Write(ctx, "b", table, rows)
	require.NoError(t, ctx.Err(), "returns before the deadline")
	require.ErrorIs(t, err, firehose.ErrDeadline)
	require.Equal(t, seq(0, 10), d.Failed)
	require.Empty(t, srv.Records())
}

// TestDestinationUnknownOutcome: a call Firehose stored but did not answer
// readably is sent again, not reported as failed.
func TestDestinationUnknownOutcome(t *testing.T) {
	for name, step := range map[string]firehosetest.Step{
		"stored, then the connection dropped": firehosetest.Dropped(),
		"stored, then 200 with half a body":   firehosetest.Truncated(),
	} {
		t.Run(name, func(t *testing.T) {
			srv := firehosetest.NewServer(t)
			srv.Script(step)
			table, rows := messagesTable(t, 30)
			d, err := destination(t, srv, 3).Write(context.Background(), "b", table, rows)
			require.NoError(t, err)
			require.Empty(t, d.Failed)
			require.Equal(t, 30, d.Files)
			requireOnceOrReported(t, srv, rows, d)
			require.Len(t, srv.Records(), 60, "stored twice: once unanswered, once acknowledged")
		})
	}
}
