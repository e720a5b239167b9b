package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/cmd/ddblake/cli"
)

// TestTableIdentity replays DynamoDB tables whose names sanitize to one
// name (chat-messages, chat.messages, chat_messages, ChatMessages), plus
// records of chat-messages from a second account and a second region:
// each table gets a lake table of its own, the other sources are set
// aside (exit 3) with their reason; flatten names the same lake tables,
// ddl defines each with its own view, and infer keeps one entry per
// DynamoDB table.
func TestTableIdentity(t *testing.T) {
	t.Parallel()
	in := fixture("e2e", "identity", "tables.json")
	lake := filepath.Join(t.TempDir(), "lake")
	res := ddblake(t, "", "replay", "--to", lake, in)
	require.Equal(t, cli.ExitPartial, res.code, res.stderr)
	sum := parseSummary(t, res.stderr)
	require.Equal(t, map[string]int{"chat_messages": 2, "chat_messages_2": 2, "chat_messages_3": 1, "chat_messages_4": 1}, sum.tables)
	require.Equal(t, 2, sum.setAside)
	require.Contains(t, res.stderr, "named apart from a table whose name sanitizes alike: chat_messages_2 ← dynamodb table chat.messages, "+
		"chat_messages_3 ← dynamodb table chat_messages, chat_messages_4 ← dynamodb table ChatMessages")
	require.Contains(t, res.stderr, "account 222222222222 region us-east-1: lake table chat_messages holds the records of account 111111111111 region us-east-1")
	require.Contains(t, res.stderr, "account 111111111111 region eu-west-1: lake table chat_messages holds")

	// flatten: the same lake tables, in _table.
	res = ddblake(t, "", "flatten", in)
	require.Equal(t, cli.ExitPartial, res.code, res.stderr)
	got := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(res.stdout), "\n") {
		var row struct {
			Table string `json:"_table"`
			Body  string `json:"body"`
		}
		require.NoError(t, json.Unmarshal([]byte(line), &row))
		got[row.Table] = append(got[row.Table], row.Body)
	}
	require.Equal(t, map[string][]string{
		"chat_messages":   {"hello from chat-messages", "hello again from chat-messages"},
		"chat_messages_2": {"hello from chat.messages", "hello again from chat.messages"},
		"chat_messages_3": {"hello from chat_messages"},
		"chat_messages_4": {"hello from ChatMessages"},
	}, got)

	// ddl: one table and one view each.
	res = ddblake(t, "", "ddl", "--lake", lake, "--location", "s3://lake/ddb")
	require.Equal(t, cli.ExitOK, res.code, res.stderr)
	for _, n := range []string{"chat_messages", "chat_messages_2", "chat_messages_3", "chat_messages_4"} {
		require.Contains(t, res.stdout, "CREATE EXTERNAL TABLE IF NOT EXISTS `ddblake`.`"+n+"`")
		require.Contains(t, res.stdout, "'s3://lake/ddb/"+n+"/_symlink_format_manifest/'")
		require.Contains(t, res.stdout, `CREATE OR REPLACE VIEW "ddblake"."`+n+`_latest"`)
	}

	// infer: one entry per DynamoDB table, as the configuration keys them.
	_, cfg := inferConfig(t, in)
	require.ElementsMatch(t, []string{"chat-messages", "chat.messages", "chat_messages", "ChatMessages"}, keysOf(cfg.Tables))
	require.Equal(t, "bigint", cfg.Tables["chat-messages"].Columns["n"])
	require.Equal(t, "string", cfg.Tables["chat.messages"].Columns["n"], "each table typed by its own values")
}

// TestTableSourcesConfig: with the sources of chat-messages listed, the
// two regions of the global table share its lake table and the dev
// account gets chat_messages_dev; nothing is set aside.
func TestTableSourcesConfig(t *testing.T) {
	t.Parallel()
	lake := filepath.Join(t.TempDir(), "lake")
	res := ddblake(t, "", "replay", "--to", lake, "--config", fixture("e2e", "identity", "global.yaml"), fixture("e2e", "identity", "tables.json"))
	require.Equal(t, cli.ExitOK, res.code, res.stderr)
	sum := parseSummary(t, res.stderr)
	require.Equal(t, map[string]int{"chat_messages": 3, "chat_messages_dev": 1, "chat_messages_2": 2, "chat_messages_3": 1, "chat_messages_4": 1}, sum.tables)
	data, err := os.ReadFile(filepath.Join(lake, "_ddblake", "schemas", "chat_messages.json"))
	require.NoError(t, err)
	var reg struct {
		Origin  map[string]string   `json:"origin"`
		Sources []map[string]string `json:"sources"`
	}
	require.NoError(t, json.Unmarshal(data, &reg))
	require.Equal(t, map[string]string{"dynamodb_table": "chat-messages"}, reg.Origin)
	require.Equal(t, []map[string]string{{"account": "111111111111", "region": "us-east-1"}, {"account": "111111111111", "region": "eu-west-1"}}, reg.Sources)

	bad := filepath.Join(t.TempDir(), "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("tables:\n  chat-messages:\n    sources: [{account: 1111}]\n"), 0o644))
	res = ddblake(t, "", "replay", "--to", lake, "--config", bad, fixture("e2e", "identity", "tables.json"))
	require.Equal(t, cli.ExitUsage, res.code)
	require.Contains(t, res.stderr, "12-digit AWS account id")
}
