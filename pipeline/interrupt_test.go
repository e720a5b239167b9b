package pipeline

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/flatten"
	"github.com/ddblake/ddblake/pipeline/decode"
	"github.com/ddblake/ddblake/sink"
	"github.com/ddblake/ddblake/sink/direct"
	"github.com/ddblake/ddblake/sink/localstore"
)

// stallingDestination writes through next, except the batches of inputs
// named stall: it says so on entered and waits for the run's context to
// end, failing every row with the context's error.
type stallingDestination struct {
	next    sink.Destination
	stall   string
	entered chan struct{}
}

func (d *stallingDestination) Write(ctx context.Context, batchID string, t *sink.Table, rows []flatten.Row) (sink.Delivery, error) {
	if !strings.Contains(batchID, d.stall) {
		return d.next.Write(ctx, batchID, t, rows)
	}
	close(d.entered)
	<-ctx.Done()
	failed := make([]int, len(rows))
	for i := range failed {
		failed[i] = i
	}
	return sink.Delivery{Failed: failed}, ctx.Err()
}

// TestReplayInterrupted cancels a replay while one input's batch is being
// written, after the other input was written: the summary says it was
// interrupted, names the finished input only, and holds no error that
// only says the run was canceled.
func TestReplayInterrupted(t *testing.T) {
	t.Parallel()
	in, dir := t.TempDir(), t.TempDir()
	line := `{"eventID":"1","eventName":"INSERT","eventSourceARN":"arn:aws:dynamodb:us-east-1:111111111111:table/notes/stream/x",` +
		`"dynamodb":{"ApproximateCreationDateTime":1775001600,"Keys":{"id":{"S":"1"}},"NewImage":{"id":{"S":"1"}},"SequenceNumber":"1"}}` + "\n"
	for _, name := range []string{"done.jsonl", "stalled.jsonl"} {
		require.NoError(t, os.WriteFile(filepath.Join(in, name), []byte(line), 0o644))
	}
	store, err := localstore.New(dir)
	require.NoError(t, err)
	dest := &stallingDestination{next: direct.New(store), stall: "stalled.jsonl", entered: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	written := make(chan struct{}, 2)
	r := &Replay{
		Processor: &Processor{Schemas: NewRegistrySchemas(store), Destination: dest, Quarantine: NewLakeErrors(store)},
		Inputs:    NewLakeErrors(store),
		Workers:   2,
		Progress: func(p Progress) {
			if strings.HasSuffix(p.Input, "done.jsonl") {
				written <- struct{}{}
			}
		},
	}
	go func() {
		<-dest.entered
		<-written // the first input's one batch is written
		cancel()
	}()
	inputs, err := (&decode.Resolver{}).Resolve(ctx, filepath.Join(in, "done.jsonl"), filepath.Join(in, "stalled.jsonl"))
	require.NoError(t, err)
	sum, err := r.Run(ctx, inputs)
	require.NoError(t, err)
	require.True(t, sum.Interrupted)
	require.Equal(t, []string{filepath.Join(in, "done.jsonl")}, sum.Finished)
	require.Empty(t, sum.WriteErrors, "a write cut short by the interrupt is no write error")
	require.Empty(t, sum.InputErrors, "nor an input error")
	require.Equal(t, 2, sum.Records)
	require.Equal(t, 1, sum.Rows)
}
