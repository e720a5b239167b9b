package pipeline

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/internal/laketest"
	"github.com/ddblake/ddblake/pipeline/decode"
	"github.com/ddblake/ddblake/sink/firehose"
	"github.com/ddblake/ddblake/sink/firehose/firehosetest"
	"github.com/ddblake/ddblake/sink/localstore"
)

// firehoseDestination is a Firehose destination with attempts tries whose
// retries do not wait.
func firehoseDestination(t *testing.T, srv *firehosetest.Server, attempts int) *firehose.Destination {
	t.Helper()
	sender, err := firehose.New(srv.Client(), firehose.Config{
		Stream: "ddblake-{table}", MaxAttempts: attempts,
		Sleep:          func(ctx context.Context, _ time.Duration) error { return ctx.Err() },
		DeadlineMargin: 10 * time.Millisecond,
	})
	require.NoError(t, err)
	return firehose.NewDestination(sender)
}

// TestProcessFirehose runs a Lambda event through the Processor with the
// Firehose sink: an oversized record is quarantined and is no failure,
// and a record Firehose rejects is the first failed one.
func TestProcessFirehose(t *testing.T) {
	payload, err := os.ReadFile("../testdata/inputs/lambda/chat_stream.json")
	require.NoError(t, err)
	var doc struct{ Records []map[string]any }
	require.NoError(t, json.Unmarshal(payload, &doc))
	require.Greater(t, len(doc.Records), 3)
	// Record 1 gets a body within DynamoDB's 400 KB whose flat JSON row
	// (six bytes per control character) is over Firehose's limit.
	img := doc.Records[1]["dynamodb"].(map[string]any)["NewImage"].(map[string]any)
	img["body"] = map[string]any{"S": strings.Repeat("\x01", firehose.MaxRecordBytes/6+10)}
	payload, err = json.Marshal(doc)
	require.NoError(t, err)

	batch := &Batch{ID: "firehose-batch"}
	require.NoError(t, decode.Event(payload, "event", func(rec *decode.ChangeRecord, rerr *decode.RecordError) error {
		require.Nil(t, rerr)
		batch.Records = append(batch.Records, rec)
		return nil
	}))

	run := func(t *testing.T, steps ...firehosetest.Step) (Result, error, *firehosetest.Server, string) {
		dir := t.TempDir()
		store, err := localstore.New(dir)
		require.NoError(t, err)
		srv := firehosetest.NewServer(t)
		srv.Script(steps...)
		p := &Processor{Schemas: NewRegistrySchemas(store), Destination: firehoseDestination(t, srv, 2), Quarantine: NewLakeErrors(store)}
		res, err := p.Process(context.Background(), batch)
		return res, err, srv, dir
	}

	t.Run("oversized record quarantined", func(t *testing.T) {
		res, err, srv, dir := run(t)
		require.NoError(t, err)
		require.Equal(t, -1, res.FirstFailed)
		require.Equal(t, 1, res.SetAside)
		require.Equal(t, len(batch.Records)-1, res.Rows)
		require.Len(t, srv.Records(), res.Rows)
		files := laketest.Files(t, dir)
		var quarantined []string
		for k := range files {
			if strings.HasPrefix(k, "_errors/") {
				quarantined = append(quarantined, k)
			}
		}
		require.Len(t, quarantined, 1)
		body, err := os.ReadFile(dir + "/" + quarantined[0])
		require.NoError(t, err)
		require.Contains(t, string(body), "1,000 KiB")
	})
	t.Run("rejected record is the first failed", func(t *testing.T) {
		// Positions in the call: record 1 is not sent, so position 2 is
		// record 3.
		res, err, _, _ := run(t, firehosetest.Partial("KMS.DisabledException", 2))
		require.ErrorIs(t, err, firehose.ErrUndelivered)
		require.Equal(t, 3, res.FirstFailed)
		require.Equal(t, 1, res.SetAside)
	})
}
