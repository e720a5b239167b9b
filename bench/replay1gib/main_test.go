package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestUsage(t *testing.T) {
	var out, errOut bytes.Buffer
	require.Equal(t, 2, run(context.Background(), []string{"-max-rss", "lots"}, &out, &errOut))
	require.Contains(t, errOut.String(), "-max-rss")
	require.Equal(t, 2, run(context.Background(), []string{"extra"}, &out, &errOut))
}

// TestMeasureExport counts the uncompressed bytes and items of the sample
// export through its manifest, and finds the export folder under a parent.
func TestMeasureExport(t *testing.T) {
	root := filepath.Join("..", "..", "testdata", "sample", "export", "chat-rooms")
	dir, err := exportDir(root)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(filepath.Base(dir), "01"), dir)
	size, items, err := measureExport(dir)
	require.NoError(t, err)
	require.Positive(t, items)
	require.Greater(t, size, items*10, "each item is more than ten bytes of JSON")

	_, err = exportDir(t.TempDir())
	require.Error(t, err, "a folder without an export")
	files, n, err := dirSize(dir)
	require.NoError(t, err)
	require.Positive(t, files)
	st, err := os.Stat(filepath.Join(dir, "manifest-files.json"))
	require.NoError(t, err)
	require.Greater(t, n, st.Size())
}
