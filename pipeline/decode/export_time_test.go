package decode

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestExportTimeFloorsToTheSecond checks that an export's items are dated
// at its export time floored to the second, as DynamoDB stream records
// are (see ExportEventTime), whatever the manifest's precision; and so
// are data files read alone with an export time.
func TestExportTimeFloorsToTheSecond(t *testing.T) {
	ctx := context.Background()
	store := newMemStore()
	for _, key := range []string{"manifest-summary.json", "manifest-files.json"} {
		b, err := os.ReadFile(filepath.Join(inputsDir, "export", "full", "AWSDynamoDB", "01775001600000-a1b2c3d4", key))
		require.NoError(t, err)
		store.put("x/"+key, bytes.ReplaceAll(b, []byte(`"2026-04-01T00:00:00Z"`), []byte(`"2026-04-01T00:00:00.750Z"`)))
	}
	require.Contains(t, string(store.objects["x/manifest-summary.json"]), "00:00:00.750Z")
	data, err := os.ReadDir(filepath.Join(inputsDir, "export", "full", "AWSDynamoDB", "01775001600000-a1b2c3d4", "data"))
	require.NoError(t, err)
	for _, e := range data {
		b, err := os.ReadFile(filepath.Join(inputsDir, "export", "full", "AWSDynamoDB", "01775001600000-a1b2c3d4", "data", e.Name()))
		require.NoError(t, err)
		store.put("x/data/"+e.Name(), b)
	}
	c, ies := exportRecords(t, store, "x")
	require.Empty(t, ies)
	require.NotEmpty(t, c.recs)
	for _, rec := range c.recs {
		require.Equal(t, micros("2026-04-01T00:00:00Z"), rec.EventTimeMicros)
	}

	d, err := NewDecoder(Options{Table: "chat-messages", ExportTime: time.Date(2026, 4, 1, 0, 0, 0, 999_000_000, time.UTC)})
	require.NoError(t, err)
	var got collected
	require.NoError(t, d.DecodeInput(ctx, Input{Name: "x/data/" + data[0].Name(), Store: store, Key: "x/data/" + data[0].Name(), Size: -1}, FormatExport, got.fn))
	require.NotEmpty(t, got.recs)
	require.Equal(t, micros("2026-04-01T00:00:00Z"), got.recs[0].EventTimeMicros)
	require.Equal(t, int64(1_000_000), ExportEventTime(1_999_999))
}
