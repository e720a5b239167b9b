package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/internal/sample"
)

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestSampleSet(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sample")
	code, out, errOut := runCLI(t, "-out", dir, "-summary")
	require.Equal(t, 0, code, errOut)
	var sum sample.Summary
	require.NoError(t, json.Unmarshal([]byte(out), &sum))
	require.NotEmpty(t, sum.Files)
	for _, f := range sum.Files {
		_, err := os.Stat(filepath.Join(dir, filepath.FromSlash(f.Path)))
		require.NoError(t, err, "summary lists %s", f.Path)
	}

	// A second run refuses the non-empty directory, unless forced, and
	// then writes the same bytes.
	code, _, errOut = runCLI(t, "-out", dir)
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "not empty")
	first, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(sum.Files[0].Path), "manifest-summary.json"))
	require.NoError(t, err)
	code, _, errOut = runCLI(t, "-out", dir, "-force")
	require.Equal(t, 0, code, errOut)
	again, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(sum.Files[0].Path), "manifest-summary.json"))
	require.NoError(t, err)
	require.Equal(t, first, again)
}

func TestLambdaEvent(t *testing.T) {
	p := filepath.Join(t.TempDir(), "event.json")
	code, _, errOut := runCLI(t, "-lambda-size", "100KiB", "-out", p)
	require.Equal(t, 0, code, errOut)
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	require.LessOrEqual(t, len(b), 100<<10)
	require.Greater(t, len(b), 95<<10)
	require.True(t, json.Valid(b))
}

func TestLargeExport(t *testing.T) {
	dir := t.TempDir()
	code, _, errOut := runCLI(t, "-export-size", "300KB", "-table", "chat-rooms", "-file-size", "100KB", "-out", dir)
	require.Equal(t, 0, code, errOut)
	m, err := filepath.Glob(filepath.Join(dir, "AWSDynamoDB", "*", "data", "*.json.gz"))
	require.NoError(t, err)
	require.Len(t, m, 3)
}

func TestUsage(t *testing.T) {
	x := filepath.Join(t.TempDir(), "x") // never written
	for _, args := range [][]string{
		{},
		{"-out"},
		{"-out", x, "extra"},
		{"-out", x, "-export-size", "1MB", "-lambda-size", "1MB"},
		{"-out", x, "-export-size", "lots"},
		{"-out", x, "-lambda-size", "1KB"},
		{"-out", x, "-export-size", "1MB", "-table", "orders"},
		{"-out", x, "-days", "0"},
		{"-bogus"},
	} {
		code, _, _ := runCLI(t, args...)
		require.Equal(t, 2, code, "%q", args)
	}
	_, err := os.Stat(x)
	require.True(t, os.IsNotExist(err), "bad usage must write nothing")
}
