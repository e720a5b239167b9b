package sample

import (
	"bytes"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestLambdaEventSize(t *testing.T) {
	g := defaultGenerator(t)
	for _, tc := range []struct {
		target   int
		readBack bool
	}{
		{256 << 10, true},
		{1 << 20, true},
		{6 << 20, false},
	} {
		t.Run(strconv.Itoa(tc.target), func(t *testing.T) {
			ev, n, err := g.LambdaEvent(tc.target)
			require.NoError(t, err)
			require.LessOrEqual(t, len(ev), tc.target, "the event must not pass its target")
			require.GreaterOrEqual(t, float64(len(ev)), 0.97*float64(tc.target), "the event must come within 3%% of its target")
			require.LessOrEqual(t, n, MaxLambdaRecords)
			if tc.readBack {
				checkLambdaEvent(t, ev, n)
				return
			}
			var e struct {
				Records []json.RawMessage `json:"Records"`
			}
			require.NoError(t, json.Unmarshal(ev, &e))
			require.Len(t, e.Records, n)
		})
	}
	ev, n, err := g.LambdaEvent(MinLambdaEventBytes)
	require.NoError(t, err)
	require.LessOrEqual(t, len(ev), MinLambdaEventBytes)
	require.Positive(t, n)
}

// checkLambdaEvent reads a benchmark event back: n chat-messages records
// of one shard, in sequence order, each change starting from the item as
// the previous one left it.
func checkLambdaEvent(t *testing.T, ev []byte, n int) {
	t.Helper()
	var e struct {
		Records []json.RawMessage `json:"Records"`
	}
	require.NoError(t, decodeJSON(ev, &e))
	require.Len(t, e.Records, n)
	st := &sampleState{t: t, items: map[string]map[string]any{}, removed: map[string]bool{},
		events: map[string]map[string]int{}, rows: map[string]int{}}
	f := File{From: DefaultConfig().Start, To: DefaultConfig().Start.Add(1000 * 24 * time.Hour)}
	prev := ""
	for i, raw := range e.Records {
		o := readStreamRecord(t, "event#"+strconv.Itoa(i), raw, f)
		require.Equal(t, TableMessages, o.table)
		require.Len(t, o.order, 21, "one shard of 21-digit sequence numbers")
		require.True(t, prev == "" || seqLess(prev, o.order), "%s: sequence numbers must increase", o.where)
		prev = o.order
		checkImages(t, o, nil)
		st.apply(o, FormatLambda)
	}
	for _, ev := range []string{eventInsert, eventModify, eventRemove} {
		require.Positive(t, st.events[FormatLambda][ev], "no %s in the event", ev)
	}
}

func TestLambdaEventIsDeterministic(t *testing.T) {
	g := defaultGenerator(t)
	a, na, err := g.LambdaEvent(512 << 10)
	require.NoError(t, err)
	b, nb, err := g.LambdaEvent(512 << 10)
	require.NoError(t, err)
	require.Equal(t, na, nb)
	require.True(t, bytes.Equal(a, b), "same seed, same event")
}

func TestLambdaEventRecordLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 15 MB event")
	}
	ev, n, err := defaultGenerator(t).LambdaEvent(32 << 20)
	require.NoError(t, err)
	require.Equal(t, MaxLambdaRecords, n, "a large target stops at the record limit")
	require.Less(t, len(ev), 32<<20)
	var e struct {
		Records []json.RawMessage `json:"Records"`
	}
	require.NoError(t, json.Unmarshal(ev, &e))
	require.Len(t, e.Records, MaxLambdaRecords)
}

func TestLambdaEventBadSize(t *testing.T) {
	g := defaultGenerator(t)
	for _, target := range []int{-1, 0, MinLambdaEventBytes - 1, MaxLambdaEventBytes + 1} {
		_, _, err := g.LambdaEvent(target)
		require.ErrorIs(t, err, ErrBadSize, "target %d", target)
	}
}
