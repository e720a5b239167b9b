package naive

import (
	"bytes"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/internal/sample"
)

// TestEventWritesEveryRecord checks that the baseline does the whole job
// it is measured on: one row per record, readable Parquet.
func TestEventWritesEveryRecord(t *testing.T) {
	g, err := sample.New(sample.DefaultConfig())
	require.NoError(t, err)
	payload, records, err := g.LambdaEvent(sample.MinLambdaEventBytes)
	require.NoError(t, err)
	files, err := Event(payload)
	require.NoError(t, err)
	require.NotEmpty(t, files)
	rows := 0
	for name, body := range files {
		f, err := parquet.OpenFile(bytes.NewReader(body), int64(len(body)))
		require.NoError(t, err, name)
		rows += int(f.NumRows())
		_, ok := f.Schema().Lookup("_event_name")
		require.True(t, ok, name)
	}
	require.Equal(t, records, rows)
}
