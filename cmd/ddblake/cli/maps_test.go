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

// TestInferNoKeyColumns checks that infer never proposes a column named
// after a map key that is not a word (emoji, ids, dates, Hangul, a key
// with spaces), even for maps of few keys shared by their items or
// mixing a word with an emoji, and that a replay with what it proposes
// names no column after such a key (no reactions_2 beside reactions).
func TestInferNoKeyColumns(t *testing.T) {
	t.Parallel()
	images := []string{
		`{"id":{"S":"0"},"reactions":{"M":{"🥕":{"N":"1"},"👍":{"N":"2"},"❤️":{"N":"3"}}},"mixed":{"M":{"like":{"N":"1"},"🥕":{"N":"2"}}},` +
			`"kr":{"M":{"메모":{"S":"a"},"제목":{"S":"b"}}},"readBy":{"M":{"u0uqeh6k":{"N":"1"},"u9x8k2mz":{"N":"2"}}},"days":{"M":{"2026-04-01":{"N":"1"}}},` +
			`"tags":{"M":{"#hot":{"BOOL":true},"a b":{"BOOL":false}}},"meta":{"M":{"title":{"S":"x"},"pages":{"N":"3"}}}}`,
		`{"id":{"S":"1"},"reactions":{"M":{"🥕":{"N":"4"},"😂":{"N":"5"},"🎉":{"N":"6"},"🔥":{"N":"7"}}},"mixed":{"M":{"like":{"N":"3"}}},` +
			`"kr":{"M":{"메모":{"S":"c"}}},"readBy":{"M":{"u0uqeh6k":{"N":"5"}}},"days":{"M":{"2026-04-02":{"N":"1"}}},` +
			`"tags":{"M":{"#hot":{"BOOL":false}}},"meta":{"M":{"title":{"S":"y"},"pages":{"N":"4"}}}}`,
	}
	var b strings.Builder
	for i, img := range images {
		b.WriteString(mapsLine("chat-messages", i, img))
	}
	input := filepath.Join(t.TempDir(), "keys.jsonl")
	require.NoError(t, os.WriteFile(input, []byte(b.String()), 0o644))

	path, cfg := inferConfig(t, input)
	require.Equal(t, map[string]string{
		"id": "string", "meta.title": "string", "meta.pages": "bigint",
		"reactions": "map<string,bigint>", "mixed": "map<string,bigint>", "kr": "map<string,string>",
		"readBy": "map<string,bigint>", "days": "map<string,bigint>", "tags": "map<string,boolean>",
	}, cfg.Tables["chat-messages"].Columns)

	lake := filepath.Join(t.TempDir(), "lake")
	res := ddblake(t, "", "replay", "--config", path, "--to", lake, input)
	require.Equal(t, cli.ExitOK, res.code, res.stderr)
	reg, err := os.ReadFile(filepath.Join(lake, "_ddblake", "schemas", "chat_messages.json"))
	require.NoError(t, err)
	for _, name := range []string{`"reactions_2"`, `"col_`, `"mixed_`} {
		require.NotContains(t, string(reg), name)
	}
}
