package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestBenchLine checks that the figures are read from go test's lines.
func TestBenchLine(t *testing.T) {
	m := benchLine.FindStringSubmatch("BenchmarkHandler6MB \t      10\t 797110576 ns/op\t   7.89 MB/s\t       174.1 cpu-ms/batch\t30990398 B/op\t  192999 allocs/op")
	require.NotNil(t, m)
	require.Equal(t, "Handler6MB", m[1])
	require.Contains(t, m[2], "174.1 cpu-ms/batch")
	require.Nil(t, benchLine.FindStringSubmatch("BenchmarkOther 10 1 ns/op"))
	require.Equal(t, "1.0-2.5", floatSpan([]float64{2.5, 1, 2}, "%.1f"))
	require.Equal(t, "3", floatSpan([]float64{3.01, 2.99}, "%.0f"))
}

// TestNaiveReplayWritesTables checks the baseline's child mode on
// generated events: one Parquet file per table and event.
func TestNaiveReplayWritesTables(t *testing.T) {
	dir := t.TempDir()
	events := filepath.Join(dir, "events")
	_, records, err := writeEvents(events, 1)
	require.NoError(t, err)
	require.Positive(t, records)
	out := filepath.Join(dir, "out")
	require.NoError(t, naiveReplay(events, out))
	require.Positive(t, parquetBytes(out))
	files, err := filepath.Glob(filepath.Join(out, "*", "event-00.parquet"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	_, err = os.Stat(files[0])
	require.NoError(t, err)
}
