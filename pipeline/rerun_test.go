package pipeline

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/internal/laketest"
	"github.com/ddblake/ddblake/pipeline/decode"
	"github.com/ddblake/ddblake/sink/direct"
	"github.com/ddblake/ddblake/sink/localstore"
)

// streamLine is one jsonl stream record of table in account/region, with
// the given NewImage (DynamoDB JSON) at second sec.
func streamLine(account, region, table string, seq, sec int, image string) string {
	return fmt.Sprintf(`{"eventID":"e%d","eventName":"INSERT","eventSource":"aws:dynamodb","awsRegion":%q,`+
		`"dynamodb":{"ApproximateCreationDateTime":%d,"Keys":{"id":{"S":"k%d"}},"NewImage":%s,"SequenceNumber":"%021d","StreamViewType":"NEW_IMAGE"},`+
		`"eventSourceARN":"arn:aws:dynamodb:%s:%s:table/%s/stream/2026-01-01T00:00:00.000"}`,
		seq, region, 1775001600+sec, seq, image, seq, region, account, table)
}

// writeLines writes lines as one jsonl file under dir and returns its path.
func writeLines(t *testing.T, dir, name string, lines ...string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644))
	return p
}

// TestRerunOverCompleteLake replays an input whose first batches hold
// NULLs, empty lists and empty maps of attributes that get a column only
// in a later batch, then replays it again over the complete lake: the
// NULL rule keeps them in _extra both times, so the rerun writes the same
// bytes.
func TestRerunOverCompleteLake(t *testing.T) {
	in := t.TempDir()
	src := writeLines(t, in, "nulls.jsonl",
		streamLine("123456789012", "us-east-1", "chat-messages", 1, 0, `{"id":{"S":"k1"},"gone":{"NULL":true},"tags":{"L":[]},"m":{"M":{}}}`),
		streamLine("123456789012", "us-east-1", "chat-messages", 2, 1, `{"id":{"S":"k2"},"gone":{"S":"back"},"tags":{"L":[{"S":"a"}]},"m":{"M":{"k":{"S":"v"}}}}`),
		streamLine("123456789012", "us-east-1", "chat-messages", 3, 2, `{"id":{"S":"k3"},"gone":{"NULL":true}}`),
	)
	lake := t.TempDir()
	first := replayChunked(t, lake, nil, 1, src) // one record per batch
	require.Empty(t, first.WriteErrors)
	require.Equal(t, 3, first.Rows)
	files := laketest.Files(t, lake)
	again := replayChunked(t, lake, nil, 1, src)
	require.Empty(t, again.WriteErrors)
	require.Equal(t, files, laketest.Files(t, lake), "a rerun over the complete lake writes the same bytes")
}

// rerunInputs writes files of stream records of several tables (two of
// whose names sanitize alike, one also from a second account) whose
// attributes come and go: NULLs, empty lists and maps before their
// columns exist, numbers that turn fractional, strings where numbers
// were. It returns the files' paths.
func rerunInputs(t *testing.T, dir string, files, perFile int) []string {
	t.Helper()
	rng := rand.New(rand.NewPCG(9, uint64(files*1000+perFile)))
	type src struct{ table, account, region string }
	srcs := []src{
		{"chat-messages", "111111111111", "us-east-1"},
		{"chat.messages", "111111111111", "us-east-1"},
		{"chat-rooms", "111111111111", "us-east-1"},
		{"chat-messages", "222222222222", "us-east-1"},
	}
	value := func() string {
		switch rng.IntN(9) {
		case 0:
			return `{"NULL":true}`
		case 1:
			return `{"L":[]}`
		case 2:
			return `{"M":{}}`
		case 3:
			return fmt.Sprintf(`{"N":"%d"}`, rng.IntN(1000))
		case 4:
			return fmt.Sprintf(`{"N":"%d.%d"}`, rng.IntN(1000), rng.IntN(100))
		case 5:
			return fmt.Sprintf(`{"S":"s%d"}`, rng.IntN(50))
		case 6:
			return fmt.Sprintf(`{"L":[{"S":"a%d"}]}`, rng.IntN(9))
		case 7:
			return fmt.Sprintf(`{"M":{"k%d":{"N":"%d"}}}`, rng.IntN(3), rng.IntN(9))
		}
		return `{"BOOL":true}`
	}
	var paths []string
	seq := 0
	for f := range files {
		var lines []string
		for range perFile {
			seq++
			s := srcs[rng.IntN(len(srcs))]
			attrs := []string{fmt.Sprintf(`"id":{"S":"k%d"}`, seq)}
			for a := range 12 {
				if rng.IntN(3) == 0 {
					attrs = append(attrs, fmt.Sprintf(`"a%d":%s`, (a*7+seq/40)%20, value()))
				}
			}
			slices.Sort(attrs)
			attrs = slices.CompactFunc(attrs, func(a, b string) bool { return a[:5] == b[:5] })
			lines = append(lines, streamLine(s.account, s.region, s.table, seq, seq, "{"+strings.Join(attrs, ",")+"}"))
		}
		paths = append(paths, writeLines(t, dir, fmt.Sprintf("part-%02d.jsonl", f), lines...))
	}
	return paths
}

// TestRerunOverHalfBuiltLake stops replays after k batches (canceling
// them, as a crash would stop them, with batches in flight), at many k,
// then reruns them to the end: every lake ends byte-identical to a fresh
// replay's, registry and quarantine included. A replay that is itself a
// rerun is stopped too.
func TestRerunOverHalfBuiltLake(t *testing.T) {
	t.Parallel()
	in := t.TempDir()
	inputs := rerunInputs(t, in, 2, 50)
	const chunk = 3 << 10
	fresh := t.TempDir()
	sum := replayChunked(t, fresh, nil, chunk, inputs...)
	require.Empty(t, sum.WriteErrors)
	require.Positive(t, sum.SetAside, "the second account's records are set aside")
	require.Greater(t, sum.Files, 30, "many batches")
	want := laketest.Files(t, fresh)
	stops := []int{1, 6}
	if testing.Short() {
		stops = []int{4}
	}
	for _, k := range stops {
		lake := t.TempDir()
		stopAfter(t, lake, k, chunk, inputs)
		stopAfter(t, lake, k+3, chunk, inputs) // a rerun stopped too
		again := replayChunked(t, lake, nil, chunk, inputs...)
		require.Empty(t, again.WriteErrors)
		require.Equal(t, want, laketest.Files(t, lake), "stopped after %d and %d batches, then rerun", k, k+3)
	}
	again := replayChunked(t, fresh, nil, chunk, inputs...)
	require.Empty(t, again.WriteErrors)
	require.Equal(t, want, laketest.Files(t, fresh), "rerun over the complete lake")
}

// stopAfter replays inputs into the lake at dir and cancels the replay
// once k batches are written.
func stopAfter(t *testing.T, dir string, k int, chunk int64, inputs []string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	store, err := localstore.New(dir)
	require.NoError(t, err)
	resolved, err := (&decode.Resolver{}).Resolve(ctx, inputs...)
	require.NoError(t, err)
	var mu sync.Mutex
	done := 0
	r := &Replay{
		Processor:  &Processor{Schemas: NewRegistrySchemas(store), Destination: direct.New(store), Quarantine: NewLakeErrors(store)},
		Inputs:     NewLakeErrors(store),
		Workers:    2,
		ChunkBytes: chunk,
		Progress: func(Progress) {
			mu.Lock()
			defer mu.Unlock()
			if done++; done == k {
				cancel()
			}
		},
	}
	_, err = r.Run(ctx, resolved)
	require.NoError(t, err)
}

// TestCanceledBatchCommitsNothing: a batch whose turn comes after its
// context was canceled commits no name, source or column, so that what a
// canceled replay committed stays a prefix of the commit order (a
// canceled replay may have sent a later input's batch in an earlier
// one's turn).
func TestCanceledBatchCommitsNothing(t *testing.T) {
	l := newIdentityLake(t, t.TempDir(), nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	b := &Batch{ID: "b", order: &commitOrder{}, ticket: 0, Records: []*decode.ChangeRecord{rec("chat-messages", acctA, "us-east-1", 0, "id=a")}}
	_, err := l.p.Process(ctx, b)
	require.ErrorIs(t, err, context.Canceled)
	objs, err := l.store.List(context.Background(), "")
	require.NoError(t, err)
	require.Empty(t, objs, "nothing written")
}
