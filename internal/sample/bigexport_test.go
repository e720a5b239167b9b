package sample

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
)

// readDir returns the files under dir by slash path relative to dir.
func readDir(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		out[filepath.ToSlash(rel)] = b
		return err
	})
	require.NoError(t, err)
	return out
}

func TestWriteLargeExport(t *testing.T) {
	g := defaultGenerator(t)
	for _, tc := range []struct {
		table    string
		size     int64
		fileSize int64
	}{
		{TableMessages, 3 << 20, 1 << 20},
		{TableRooms, 1 << 20, 0},
	} {
		t.Run(tc.table, func(t *testing.T) {
			dir := t.TempDir()
			var progress []int64
			res, err := g.WriteLargeExport(context.Background(), dir, LargeExport{
				Table: tc.table, Size: tc.size, FileSize: tc.fileSize,
				Progress: func(n int64) { progress = append(progress, n) },
			})
			require.NoError(t, err)
			require.GreaterOrEqual(t, res.Bytes, tc.size)
			require.Less(t, res.Bytes, tc.size+8<<10, "stops after the line that reaches the size")
			if tc.fileSize > 0 {
				require.EqualValues(t, (tc.size+tc.fileSize-1)/tc.fileSize, res.Files)
			}
			require.NotEmpty(t, progress)
			require.Equal(t, res.Bytes, progress[len(progress)-1])

			files := readDir(t, dir)
			rel, err := filepath.Rel(dir, res.Dir)
			require.NoError(t, err)
			ex := readExport(t, files, File{Path: filepath.ToSlash(rel), Format: FormatExport, Table: tc.table, Records: int(res.Items)})
			require.Len(t, ex.lines, int(res.Items))
			var raw int64
			keys := map[string]bool{}
			for i, l := range ex.lines {
				raw += int64(len(l)) + 1
				var line struct {
					Item map[string]any `json:"Item"`
				}
				require.NoError(t, decodeJSON(l, &line), "line %d", i+1)
				require.NoError(t, checkItem(line.Item, nil), "line %d", i+1)
				k := canon(line.Item["roomId"]) + canon(line.Item["sk"])
				require.False(t, keys[k], "line %d: key %s exported twice", i+1, k)
				keys[k] = true
			}
			require.Equal(t, res.Bytes, raw)
		})
	}
}

func TestWriteLargeExportIsDeterministic(t *testing.T) {
	g := defaultGenerator(t)
	a, b := t.TempDir(), t.TempDir()
	for _, dir := range []string{a, b} {
		_, err := g.WriteLargeExport(context.Background(), dir, LargeExport{Size: 1 << 20, FileSize: 512 << 10})
		require.NoError(t, err)
	}
	fa, fb := readDir(t, a), readDir(t, b)
	require.Equal(t, len(fa), len(fb))
	for n, data := range fa {
		require.True(t, bytes.Equal(data, fb[n]), "%s differs", n)
	}
}

// TestWriteLargeExportStreams checks that memory does not grow with the
// size of the export: the live heap (measured after a collection, so that
// garbage awaiting the collector does not count) stays far below the data
// written.
func TestWriteLargeExportStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 32 MiB")
	}
	g := defaultGenerator(t)
	peak := func(size int64) uint64 {
		var max uint64
		var ms runtime.MemStats
		_, err := g.WriteLargeExport(context.Background(), t.TempDir(), LargeExport{
			Size: size, FileSize: 8 << 20,
			Progress: func(int64) {
				runtime.GC()
				runtime.ReadMemStats(&ms)
				max = maxOf(max, ms.HeapAlloc)
			},
		})
		require.NoError(t, err)
		return max
	}
	runtime.GC()
	small := peak(4 << 20)
	large := peak(32 << 20)
	t.Logf("peak heap: %d KiB for 4 MiB, %d KiB for 32 MiB", small>>10, large>>10)
	require.Less(t, large, uint64(16<<20), "the heap must stay well below the 32 MiB written")
	require.Less(t, large, small+8<<20, "the heap must not grow with the export")
}

func maxOf(a, b uint64) uint64 {
	if a > b {
		return a
	}
	return b
}

func TestWriteLargeExportErrors(t *testing.T) {
	g := defaultGenerator(t)
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		spec LargeExport
		want error
	}{
		{"zero size", LargeExport{}, ErrBadSize},
		{"too large", LargeExport{Size: MaxLargeExportBytes + 1}, ErrBadSize},
		{"unknown table", LargeExport{Size: 1, Table: "orders"}, ErrBadConfig},
		{"bad level", LargeExport{Size: 1, Level: 42}, ErrBadConfig},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := g.WriteLargeExport(context.Background(), dir, tc.spec)
			require.ErrorIs(t, err, tc.want)
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := g.WriteLargeExport(ctx, dir, LargeExport{Size: 1 << 20})
	require.ErrorIs(t, err, context.Canceled)
}
