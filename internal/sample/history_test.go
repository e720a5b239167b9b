package sample

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestWriteLambdaHistory(t *testing.T) {
	g, err := New(Config{Seed: 3, Days: 2, RoomsPerDay: 4})
	require.NoError(t, err)
	dir := t.TempDir()
	files, err := g.WriteLambdaHistory(context.Background(), dir, 10)
	require.NoError(t, err)
	require.NotEmpty(t, files)
	total := 0
	for _, f := range files {
		require.LessOrEqual(t, f.Records, 10, f.Path)
		require.Equal(t, FormatLambda, f.Format)
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f.Path)))
		require.NoError(t, err)
		var ev struct{ Records []json.RawMessage }
		require.NoError(t, json.Unmarshal(data, &ev))
		require.Len(t, ev.Records, f.Records)
		total += f.Records
	}
	require.Len(t, g.history(), total, "every change of the history, once")

	_, err = g.WriteLambdaHistory(context.Background(), dir, 10)
	require.ErrorIs(t, err, ErrDirNotEmpty)
	_, err = g.WriteLambdaHistory(context.Background(), t.TempDir(), 0)
	require.ErrorIs(t, err, ErrBadConfig)
}
