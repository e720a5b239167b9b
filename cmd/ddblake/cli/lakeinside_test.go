package cli_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/internal/laketest"
)

// TestReplayFolderHoldingTheLake replays a folder that holds the lake it
// writes (ddblake replay --to DIR/lake DIR, as `ddblake replay .` with the
// default ./lake does): the lake's own files are not inputs, so the
// rerun reads the same data, ends as the first run did and changes no
// file.
func TestReplayFolderHoldingTheLake(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile(fixture("inputs", "jsonl", "stream.jsonl"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "stream.jsonl"), data, 0o644))
	lake := filepath.Join(dir, "lake")

	first := ddblake(t, "", "replay", "--to", lake, dir)
	require.Equal(t, 0, first.code, first.stderr)
	want := laketest.Files(t, lake)
	again := ddblake(t, "", "replay", "--to", lake, dir)
	require.Equal(t, 0, again.code, again.stderr)
	require.Equal(t, parseSummary(t, first.stderr), parseSummary(t, again.stderr))
	require.Contains(t, again.stderr, "inside the lake")
	require.Equal(t, want, laketest.Files(t, lake))

	// Given the lake alone, there is nothing to read.
	only := ddblake(t, "", "replay", "--to", lake, lake)
	require.Equal(t, 1, only.code, only.stderr)
}
