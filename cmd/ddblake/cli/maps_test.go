package cli_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/cmd/ddblake/cli"
)

// mapsLine is one DynamoDB stream record of table t, as a JSON line.
func mapsLine(t string, seq int, image string) string {
	return fmt.Sprintf(`{"eventID":"e%d","eventName":"INSERT","eventSource":"aws:dynamodb","dynamodb":{"ApproximateCreationDateTime":1775001600,`+
		`"Keys":{"id":{"S":"%d"}},"NewImage":%s,"SequenceNumber":"%021d"},`+
		`"eventSourceARN":"arn:aws:dynamodb:us-east-1:123456789012:table/%s/stream/2026"}`+"\n", seq, seq, image, 100+seq, t)
}

// chatMaps writes n messages whose readBy maps hold user ids read as
// names one by one ("alice07"), in pairs that share no reader, and whose
// reactions hold emoji.
func chatMaps(t *testing.T, n int) string {
	t.Helper()
	var b strings.Builder
	for i := range n {
		b.WriteString(mapsLine("chat-messages", i, fmt.Sprintf(
			`{"id":{"S":"%d"},"readBy":{"M":{"reader%c%c":{"N":"%d"},"friend%c%c":{"N":"1"}}},"reactions":{"M":{"🥕":{"N":"%d"}}},"body":{"S":"hi"}}`,
			i, 'a'+i%26, 'a'+i/26, 1775001600000+i, 'a'+i%26, 'a'+i/26, i)))
	}
	path := filepath.Join(t.TempDir(), "chat.jsonl")
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o644))
	return path
}

// TestInferProposesMaps checks that infer declares maps keyed by data as
// one map column, never a column per key, and that replaying with what it
// proposes types every value.
func TestInferProposesMaps(t *testing.T) {
	t.Parallel()
	input := chatMaps(t, 200)
	path, cfg := inferConfig(t, input)
	cols := cfg.Tables["chat-messages"].Columns
	require.Equal(t, map[string]string{"id": "string", "body": "string",
		"readBy": "map<string,bigint>", "reactions": "map<string,bigint>"}, cols)

	lake := filepath.Join(t.TempDir(), "lake")
	res := ddblake(t, "", "replay", "--config", path, "--to", lake, input)
	require.Equal(t, cli.ExitOK, res.code, res.stderr)
	require.Zero(t, parseSummary(t, res.stderr).misfits)
	reg, err := os.ReadFile(filepath.Join(lake, "_ddblake", "schemas", "chat_messages.json"))
	require.NoError(t, err)
	require.Equal(t, 4, strings.Count(string(reg), `"path"`), "%s", reg)
}

// TestReplayColumnCap checks that a table at its column cap keeps new
// paths in _extra, and that the summary names each such path once, not
// once per row.
func TestReplayColumnCap(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var in strings.Builder
	for i := range 50 {
		in.WriteString(mapsLine("notes", i, fmt.Sprintf(`{"id":{"S":"%d"},"a":{"S":"x"},"b":{"N":"%d"},"c":{"BOOL":true},"late":{"S":"y"}}`, i, i)))
	}
	input := filepath.Join(dir, "notes.jsonl")
	require.NoError(t, os.WriteFile(input, []byte(in.String()), 0o644))
	config := filepath.Join(dir, "cap.yaml")
	require.NoError(t, os.WriteFile(config, []byte("tables:\n  notes:\n    max_columns: 3\n"), 0o644))

	lake := filepath.Join(dir, "lake")
	res := ddblake(t, "", "replay", "--config", config, "--to", lake, input)
	require.Equal(t, cli.ExitOK, res.code, res.stderr)
	require.Contains(t, res.stderr, "; 2 new attribute paths past the column cap")
	require.Equal(t, 1, strings.Count(res.stderr, "column cap: notes: c kept in _extra (the table has its max_columns 3 columns)"), res.stderr)
	require.Equal(t, 1, strings.Count(res.stderr, "column cap: notes: late kept in _extra"), res.stderr)
	require.Equal(t, 100, parseSummary(t, res.stderr).misfits)

	res = ddblake(t, "", "flatten", "--config", config, input)
	require.Equal(t, cli.ExitOK, res.code, res.stderr)
	require.Contains(t, res.stdout, `"_extra":{"c":{"BOOL":true},"late":{"S":"y"}}`)
}
