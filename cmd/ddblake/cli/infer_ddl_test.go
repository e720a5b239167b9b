package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	gluetypes "github.com/aws/aws-sdk-go-v2/service/glue/types"
	"github.com/goccy/go-yaml"
	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/cmd/ddblake/cli"
	"github.com/ddblake/ddblake/flatten"
	"github.com/ddblake/ddblake/pipeline"
	"github.com/ddblake/ddblake/schemas"
)

// inferConfig runs infer and checks that its output is a configuration.
func inferConfig(t *testing.T, args ...string) (string, *pipeline.Config) {
	t.Helper()
	res := ddblake(t, "", append([]string{"infer"}, args...)...)
	require.Equal(t, cli.ExitOK, res.code, res.stderr)
	cfg, err := pipeline.ParseConfig([]byte(res.stdout))
	require.NoError(t, err, "infer's output reads back as a configuration:\n%s", res.stdout)
	path := filepath.Join(t.TempDir(), "inferred.yaml")
	require.NoError(t, os.WriteFile(path, []byte(res.stdout), 0o644))
	return path, cfg
}

func TestInferFitsEveryBatch(t *testing.T) {
	t.Parallel()
	early, later := fixture("cli", "infer", "early.jsonl"), fixture("cli", "infer", "later.jsonl")
	path, cfg := inferConfig(t, early, later)
	cols := cfg.Tables["shop-items"].Columns
	require.Equal(t, "decimal(38,2)", cols["price"], "integers first, fractions later: a decimal that fits both")
	require.Equal(t, "json", cols["code"], "N in some items, S in others")
	require.Equal(t, "array<decimal(38,1)>", cols["tags"])
	require.Equal(t, "string", cols["sku"])
	require.NotContains(t, cols, "dims.cm.w", "a name with a '.' cannot be a configuration path")

	// Replayed one input after the other, the default configuration types
	// price and code from the first input, and the second misfits.
	replayBoth := func(config ...string) (misfits int) {
		lake := filepath.Join(t.TempDir(), "lake")
		for _, in := range []string{early, later} {
			res := ddblake(t, "", append(append([]string{"replay", "--to", lake}, config...), in)...)
			require.Equal(t, cli.ExitOK, res.code, res.stderr)
			misfits += parseSummary(t, res.stderr).misfits
		}
		return misfits
	}
	require.NotZero(t, replayBoth(), "the default configuration misfits later values")
	require.Zero(t, replayBoth("--config", path), "the inferred types fit every value")
}

func TestInferNotes(t *testing.T) {
	t.Parallel()
	line := func(image string) string {
		return `{"eventID":"1","eventName":"INSERT","eventSource":"aws:dynamodb","dynamodb":{"ApproximateCreationDateTime":1775001600,` +
			`"Keys":{"id":{"S":"1"}},"NewImage":` + image + `,"SequenceNumber":"100000000000000000001"},` +
			`"eventSourceARN":"arn:aws:dynamodb:us-east-1:123456789012:table/notes/stream/2026"}` + "\n"
	}
	stdin := line(`{"id":{"S":"1"},"gone":{"NULL":true},"a.b":{"N":"1"},"meta":{"S":"x"}}`) +
		line(`{"id":{"S":"2"},"meta":{"M":{"k":{"N":"2"}}}}`)
	res := ddblake(t, stdin, "infer", "--format", "jsonl", "-")
	require.Equal(t, cli.ExitOK, res.code, res.stderr)
	require.Contains(t, res.stdout, "#   notes: gone: only null or empty values seen")
	require.Contains(t, res.stdout, `#   notes: a\.b: bigint (a '.' inside an attribute name cannot be written`)
	require.Contains(t, res.stdout, "#   notes: meta: holds a map in other items")
	cfg, err := pipeline.ParseConfig([]byte(res.stdout))
	require.NoError(t, err)
	require.Equal(t, map[string]string{"id": "string", "meta.k": "bigint"}, cfg.Tables["notes"].Columns)
}

func TestInferKeepsTheConfiguration(t *testing.T) {
	t.Parallel()
	base := filepath.Join(t.TempDir(), "base.yaml")
	require.NoError(t, os.WriteFile(base, []byte(`defaults:
  compression: snappy
tables:
  shop-items:
    columns: {price: "decimal(12,2)"}
    omit: [tags]
    partition: hour
`), 0o644))
	_, cfg := inferConfig(t, "--config", base, fixture("cli", "infer"))
	tc := cfg.Tables["shop-items"]
	require.Equal(t, "decimal(12,2)", tc.Columns["price"], "a declared type is kept")
	require.Equal(t, []string{"tags"}, tc.Omit)
	require.Equal(t, "hour", tc.Partition)
	require.Equal(t, "snappy", cfg.Defaults.Compression)
	require.NotContains(t, tc.Columns, "tags", "omitted attributes are not declared")
	require.Equal(t, "json", tc.Columns["code"])
}

func TestInferSample(t *testing.T) {
	t.Parallel()
	path, cfg := inferConfig(t, fixture("sample"))
	require.ElementsMatch(t, []string{"chat-messages", "chat-rooms"}, keysOf(cfg.Tables), "keyed by DynamoDB table name, as the configuration is")
	for name, tc := range cfg.Tables {
		require.NotEmpty(t, tc.Columns, name)
		// Maps keyed by user ids or emoji are one map column each, never a
		// column per key (reactions.👍, unreadCount.u0uqeh6k...).
		for p := range tc.Columns {
			for _, seg := range strings.Split(p, ".")[1:] {
				require.False(t, flatten.DataKey(seg), "%s: %s declares a column per map key", name, p)
			}
		}
	}
	require.Equal(t, "map<string,bigint>", cfg.Tables["chat-messages"].Columns["reactions"])
	require.Equal(t, "map<string,bigint>", cfg.Tables["chat-rooms"].Columns["unreadCount"])

	// With the inferred configuration, the only values in _extra are the
	// NULLs, empty lists and empty maps the NULL rule always keeps there.
	extra := func(args ...string) (nonNull int) {
		res := ddblake(t, "", append(append([]string{"flatten"}, args...), fixture("sample"))...)
		require.Equal(t, cli.ExitOK, res.code, res.stderr)
		for _, line := range strings.Split(strings.TrimSpace(res.stdout), "\n") {
			var row struct {
				Extra map[string]json.RawMessage `json:"_extra"`
			}
			require.NoError(t, json.Unmarshal([]byte(line), &row))
			for _, v := range row.Extra {
				if !onlyEmpty(t, v) {
					nonNull++
				}
			}
		}
		return nonNull
	}
	require.Zero(t, extra("--config", path))

	out, err := os.ReadFile(path)
	require.NoError(t, err)
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "#   ") {
			require.Contains(t, line, ": ", "each note names its table and path")
		}
	}
}

func keysOf[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestInferBadInput(t *testing.T) {
	t.Parallel()
	res := ddblake(t, "", "infer", fixture("inputs", "lambda", "bad_records.json"), fixture("inputs", "lambda", "truncated.json"))
	require.Equal(t, cli.ExitPartial, res.code, res.stderr)
	_, err := pipeline.ParseConfig([]byte(res.stdout))
	require.NoError(t, err, "the good records still give a configuration")
	require.Contains(t, res.stderr, "bad record: "+fixture("inputs", "lambda", "bad_records.json"))
	require.Contains(t, res.stderr, "input error: "+fixture("inputs", "lambda", "truncated.json"))
}

// replaySample replays the sample into a new lake and returns it.
func replaySample(t *testing.T) string {
	t.Helper()
	lake := filepath.Join(t.TempDir(), "lake")
	res := ddblake(t, "", "replay", "--to", lake, fixture("sample"))
	require.Equal(t, cli.ExitOK, res.code, res.stderr)
	return lake
}

func TestDDL(t *testing.T) {
	t.Parallel()
	lake := replaySample(t)
	tables := []string{"chat_messages", "chat_rooms"}

	t.Run("athena", func(t *testing.T) {
		res := ddblake(t, "", "ddl", "--lake", lake, "--location", "s3://my-lake/ddb", "--database", "chat")
		require.Equal(t, cli.ExitOK, res.code, res.stderr)
		require.Contains(t, res.stdout, "CREATE DATABASE IF NOT EXISTS")
		for _, table := range tables {
			require.Contains(t, res.stdout, "CREATE EXTERNAL TABLE IF NOT EXISTS `chat`.`"+table+"`")
			require.Contains(t, res.stdout, "'s3://my-lake/ddb/"+table+"/_symlink_format_manifest/'")
			require.Contains(t, res.stdout, `CREATE OR REPLACE VIEW "chat"."`+table+`_latest"`)
		}
		require.Contains(t, res.stdout, "'ZSTD'", "the default compression")
	})
	t.Run("glue", func(t *testing.T) {
		res := ddblake(t, "", "ddl", "--lake", lake, "--location", "s3://my-lake/ddb", "--format", "glue")
		require.Equal(t, cli.ExitOK, res.code, res.stderr)
		var inputs []gluetypes.TableInput
		require.NoError(t, json.Unmarshal([]byte(res.stdout), &inputs))
		require.Len(t, inputs, len(tables))
		for i, in := range inputs {
			require.Equal(t, tables[i], *in.Name)
			require.Equal(t, "s3://my-lake/ddb/"+tables[i]+"/_symlink_format_manifest/", *in.StorageDescriptor.Location)
			require.NotEmpty(t, in.StorageDescriptor.Columns)
			require.NotEmpty(t, in.PartitionKeys)
		}
	})
	t.Run("cloudformation", func(t *testing.T) {
		res := ddblake(t, "", "ddl", "--lake", lake, "--location", "s3://my-lake/ddb", "--format", "cloudformation", "--include-database")
		require.Equal(t, cli.ExitOK, res.code, res.stderr)
		var tmpl struct {
			Resources map[string]struct {
				Type string `yaml:"Type"`
			} `yaml:"Resources"`
		}
		require.NoError(t, yaml.Unmarshal([]byte(res.stdout), &tmpl))
		counts := map[string]int{}
		for _, r := range tmpl.Resources {
			counts[r.Type]++
		}
		require.Equal(t, map[string]int{"AWS::Glue::Table": 2, "AWS::Glue::Database": 1}, counts)
	})
	t.Run("firehose", func(t *testing.T) {
		res := ddblake(t, "", "ddl", "--lake", lake, "--location", "s3://my-lake/ddb", "--format", "firehose", "--role-arn", "arn:aws:iam::123456789012:role/firehose")
		require.Equal(t, cli.ExitOK, res.code, res.stderr)
		var dests map[string]fhtypes.ExtendedS3DestinationConfiguration
		require.NoError(t, json.Unmarshal([]byte(res.stdout), &dests))
		require.ElementsMatch(t, tables, keysOf(dests))
		for table, d := range dests {
			require.Equal(t, "arn:aws:s3:::my-lake", *d.BucketARN)
			require.Contains(t, *d.Prefix, table+"/")
			require.Equal(t, "arn:aws:iam::123456789012:role/firehose", *d.RoleARN)
		}
	})
}

func TestDDLErrors(t *testing.T) {
	t.Parallel()
	lake := t.TempDir()
	res := ddblake(t, "", "replay", "--to", lake, fixture("inputs", "lambda", "chat_stream.json"))
	require.Equal(t, cli.ExitOK, res.code, res.stderr)
	empty := t.TempDir()
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"no lake", []string{"--location", "s3://b-1/p"}, cli.ExitUsage, "--lake is required"},
		{"local lake without location", []string{"--lake", lake}, cli.ExitUsage, "--location s3://bucket/prefix is required"},
		{"bad location", []string{"--lake", lake, "--location", "/tmp/x"}, cli.ExitUsage, "ddl: "},
		{"bad format", []string{"--lake", lake, "--location", "s3://b-1/p", "--format", "hive"}, cli.ExitUsage, `--format "hive"`},
		{"bad database", []string{"--lake", lake, "--location", "s3://b-1/p", "--database", "My DB"}, cli.ExitUsage, "My DB"},
		{"arguments", []string{"--lake", lake, "--location", "s3://b-1/p", "extra"}, cli.ExitUsage, "takes no arguments"},
		{"missing lake", []string{"--lake", filepath.Join(empty, "nope"), "--location", "s3://b-1/p"}, cli.ExitFailed, "nope"},
		{"empty lake", []string{"--lake", empty, "--location", "s3://b-1/p"}, cli.ExitFailed, "no tables in the lake"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := ddblake(t, "", append([]string{"ddl"}, tt.args...)...)
			require.Equal(t, tt.code, res.code, res.stderr)
			require.Contains(t, res.stderr, tt.stderr)
			require.Empty(t, res.stdout)
		})
	}
	_, err := os.Stat(filepath.Join(empty, "nope"))
	require.True(t, os.IsNotExist(err), "ddl never creates a lake")
}

// TestDDLAlter replays part of the sample, keeps a copy of the registry,
// replays the rest, and checks that --format alter offers exactly the new
// columns, appended, and the re-created view.
func TestDDLAlter(t *testing.T) {
	t.Parallel()
	lake := t.TempDir()
	res := ddblake(t, "", "replay", "--to", lake, fixture("sample", "lambda", "chat-messages", "shard-0", "001.json"))
	require.Equal(t, cli.ExitOK, res.code, res.stderr)
	before, err := os.ReadFile(filepath.Join(lake, "_ddblake", "schemas", "chat_messages.json"))
	require.NoError(t, err)
	prev := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(prev, "_ddblake", "schemas"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(prev, "_ddblake", "schemas", "chat_messages.json"), before, 0o644))
	res = ddblake(t, "", "replay", "--to", lake, fixture("sample"))
	require.Equal(t, cli.ExitOK, res.code, res.stderr)

	var older, newer schemas.Schema
	require.NoError(t, json.Unmarshal(before, &older))
	after, err := os.ReadFile(filepath.Join(lake, "_ddblake", "schemas", "chat_messages.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(after, &newer))
	require.Greater(t, len(newer.Columns), len(older.Columns), "the rest of the sample adds columns")
	require.Equal(t, older.Columns, newer.Columns[:len(older.Columns)], "columns are only appended")

	res = ddblake(t, "", "ddl", "--lake", lake, "--location", "s3://my-lake/ddb", "--format", "alter", "--previous", prev)
	require.Equal(t, cli.ExitOK, res.code, res.stderr)
	start := strings.Index(res.stdout, "ALTER TABLE `ddblake`.`chat_messages` ADD COLUMNS (")
	require.GreaterOrEqual(t, start, 0, res.stdout)
	alter := res.stdout[start : start+strings.Index(res.stdout[start:], ");")]
	for _, c := range newer.Columns[len(older.Columns):] {
		require.Contains(t, alter, "`"+c.Name+"` "+c.Type.AthenaName())
	}
	for _, c := range older.Columns {
		require.NotContains(t, alter, "`"+c.Name+"` ", "old column %s is not added again", c.Name)
	}
	require.Contains(t, res.stdout, `CREATE OR REPLACE VIEW "ddblake"."chat_messages_latest"`)
	require.Contains(t, res.stdout, "CREATE EXTERNAL TABLE IF NOT EXISTS `ddblake`.`chat_rooms`", "a table the previous registry lacks is created")
	require.NotContains(t, res.stdout, "CREATE EXTERNAL TABLE IF NOT EXISTS `ddblake`.`chat_messages`")

	res = ddblake(t, "", "ddl", "--lake", lake, "--location", "s3://my-lake/ddb", "--format", "alter", "--previous", lake)
	require.Equal(t, cli.ExitOK, res.code, res.stderr)
	require.Equal(t, "-- no table changed since the previous registry\n", res.stdout)

	res = ddblake(t, "", "ddl", "--lake", lake, "--location", "s3://my-lake/ddb", "--format", "alter")
	require.Equal(t, cli.ExitUsage, res.code)
	require.Contains(t, res.stderr, "--previous")
}

// onlyEmpty reports whether a DynamoDB JSON value of _extra holds nothing
// but NULLs, empty lists and empty maps (nested in maps).
func onlyEmpty(t *testing.T, v json.RawMessage) bool {
	t.Helper()
	var tv map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(v, &tv))
	switch {
	case string(tv["NULL"]) == "true", string(tv["L"]) == "[]":
		return true
	case tv["M"] != nil:
		var m map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(tv["M"], &m))
		for _, e := range m {
			if !onlyEmpty(t, e) {
				return false
			}
		}
		return true
	}
	return false
}
