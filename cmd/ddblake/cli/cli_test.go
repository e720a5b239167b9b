package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/cmd/ddblake/cli"
	"github.com/ddblake/ddblake/flatten"
	"github.com/ddblake/ddblake/internal/laketest"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/cli")

// testdata is the repository's testdata folder, seen from this package.
const testdata = "../../../testdata"

func fixture(parts ...string) string { return filepath.Join(append([]string{testdata}, parts...)...) }

type result struct {
	code           int
	stdout, stderr string
}

// ddblake runs the command line in process, as main does.
func ddblake(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	code := cli.Run(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return result{code: code, stdout: out.String(), stderr: errOut.String()}
}

// summary is what a replay's summary line says.
type summary struct {
	inputs, records, rows, files int
	tables                       map[string]int
	setAside, misfits            int
}

var (
	summaryRE  = regexp.MustCompile(`^replayed ([\d,]+) inputs?: ([\d,]+) records? → ([\d,]+) rows? in ([\d,]+) tables?(?: \(([^)]*)\))?, ([\d,]+) files?, [\d.]+ (?:B|KiB|MiB|GiB)`)
	setAsideRE = regexp.MustCompile(`; ([\d,]+) set aside in `)
	misfitsRE  = regexp.MustCompile(`; ([\d,]+) values? kept in _extra`)
)

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(strings.ReplaceAll(s, ",", ""))
	require.NoError(t, err)
	return n
}

// parseSummary reads the summary line, the first line of stderr.
func parseSummary(t *testing.T, stderr string) summary {
	t.Helper()
	line, _, _ := strings.Cut(stderr, "\n")
	m := summaryRE.FindStringSubmatch(line)
	require.NotNil(t, m, "summary line: %q", line)
	s := summary{inputs: atoi(t, m[1]), records: atoi(t, m[2]), rows: atoi(t, m[3]), files: atoi(t, m[6]), tables: map[string]int{}}
	if m[5] != "" {
		for _, part := range strings.Split(m[5], ", ") {
			name, n, ok := strings.Cut(part, " ")
			require.True(t, ok, part)
			s.tables[name] = atoi(t, n)
		}
	}
	require.Equal(t, atoi(t, m[4]), len(s.tables))
	if m := setAsideRE.FindStringSubmatch(line); m != nil {
		s.setAside = atoi(t, m[1])
	}
	if m := misfitsRE.FindStringSubmatch(line); m != nil {
		s.misfits = atoi(t, m[1])
	}
	return s
}

// parquetRows counts the rows of the Parquet files of each table.
func parquetRows(t *testing.T, dir string) (rows map[string]int, files int) {
	t.Helper()
	rows = map[string]int{}
	for rel := range laketest.Files(t, dir) {
		if !strings.HasSuffix(rel, ".parquet") {
			continue
		}
		f, err := os.Open(filepath.Join(dir, filepath.FromSlash(rel)))
		require.NoError(t, err)
		st, err := f.Stat()
		require.NoError(t, err)
		pf, err := parquet.OpenFile(f, st.Size())
		require.NoError(t, err, rel)
		table, _, _ := strings.Cut(rel, "/")
		rows[table] += int(pf.NumRows())
		files++
		require.NoError(t, f.Close())
	}
	return rows, files
}

func TestReplaySampleMatchesLakeAndReruns(t *testing.T) {
	t.Parallel()
	lake := filepath.Join(t.TempDir(), "lake")
	res := ddblake(t, "", "replay", "--to", lake, fixture("sample"))
	require.Equal(t, cli.ExitOK, res.code, res.stderr)
	require.Empty(t, res.stdout)
	require.Equal(t, 1, strings.Count(res.stderr, "\n"), "one summary line, nothing else: %s", res.stderr)

	sum := parseSummary(t, res.stderr)
	rows, files := parquetRows(t, lake)
	require.Equal(t, rows, sum.tables, "rows per table in the summary are the rows in the Parquet files")
	require.Equal(t, sum.files, files)
	total := 0
	for table, n := range rows {
		total += n
		_, err := os.Stat(filepath.Join(lake, "_ddblake", "schemas", table+".json"))
		require.NoError(t, err, "registry of %s", table)
	}
	require.Equal(t, sum.rows, total)
	require.Equal(t, sum.records, sum.rows+sum.setAside)
	require.ElementsMatch(t, []string{"chat_messages", "chat_rooms"}, keys(rows))
	require.Greater(t, sum.inputs, 10, "every sample file and export")

	before := laketest.Files(t, lake)
	again := ddblake(t, "", "replay", "--to", lake, fixture("sample"))
	require.Equal(t, cli.ExitOK, again.code, again.stderr)
	require.Equal(t, sum.rows, parseSummary(t, again.stderr).rows)
	require.Equal(t, before, laketest.Files(t, lake), "a rerun leaves the lake byte-identical")
}

func keys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestReplayExitCodes(t *testing.T) {
	emptyDir := t.TempDir()
	badConfig := filepath.Join(t.TempDir(), "bad.yaml")
	require.NoError(t, os.WriteFile(badConfig, []byte("tables:\n  chat-messages:\n    colums: {price: bigint}\n"), 0o644))
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr []string // substrings of stderr
	}{
		{"clean input", []string{fixture("inputs", "lambda", "chat_stream.json")}, cli.ExitOK, []string{"replayed 1 input: "}},
		{"bad records", []string{fixture("inputs", "lambda", "bad_records.json")}, cli.ExitPartial,
			[]string{"set aside in ", "bad_records.json: line 3: record 1: dynamodb.NewImage.reaction: unknown attribute type"}},
		{"corrupt gzip", []string{fixture("inputs", "jsonl", "corrupt_truncated.jsonl.gz")}, cli.ExitPartial,
			[]string{"input error: " + fixture("inputs", "jsonl", "corrupt_truncated.jsonl.gz") + ": line ", "1 input not read to the end"}},
		{"corrupt gzip in an export", []string{fixture("inputs", "export", "corrupt_gzip")}, cli.ExitPartial,
			[]string{"input error: ", ".json.gz", "gzip"}},
		{"MD5 mismatch", []string{fixture("inputs", "export", "bad_md5")}, cli.ExitPartial,
			[]string{"input error: ", ".json.gz", "MD5 checksum mismatch"}},
		{"empty file", []string{fixture("inputs", "lambda", "empty.json")}, cli.ExitPartial,
			[]string{"input error: " + fixture("inputs", "lambda", "empty.json") + ": ", "empty input"}},
		{"truncated JSON", []string{fixture("inputs", "lambda", "truncated.json")}, cli.ExitPartial,
			[]string{"input error: " + fixture("inputs", "lambda", "truncated.json") + ": line ", "truncated JSON"}},
		{"one source of two missing", []string{fixture("inputs", "lambda", "chat_stream.json"), fixture("nope.json")}, cli.ExitPartial,
			[]string{"input error: source " + fixture("nope.json") + ": source not found"}},
		{"all sources missing", []string{fixture("nope.json"), fixture("nope2.json")}, cli.ExitFailed,
			[]string{"nope.json", "nope2.json", "no input could be read"}},
		{"empty directory", []string{emptyDir}, cli.ExitFailed, []string{"input error: source " + emptyDir, "no input could be read"}},
		{"no source", nil, cli.ExitUsage,
			[]string{"replay: need at least one SOURCE (a file, directory, export directory, - or s3://bucket/key)"}},
		{"unknown flag", []string{"--bogus", fixture("sample")}, cli.ExitUsage, []string{"unknown flag: --bogus"}},
		{"bad format", []string{"--format", "csv", fixture("sample")}, cli.ExitUsage, []string{`--format "csv"`}},
		{"bad table flag", []string{"--table", "a/b", fixture("sample")}, cli.ExitUsage, []string{`--table "a/b"`}},
		{"config with an unknown key", []string{"--config", badConfig, fixture("sample")}, cli.ExitUsage, []string{"config " + badConfig, "colums"}},
		{"config missing", []string{"--config", badConfig + ".missing", fixture("sample")}, cli.ExitUsage, []string{"config: open "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			lake := filepath.Join(t.TempDir(), "lake")
			res := ddblake(t, "", append([]string{"replay", "--to", lake}, tt.args...)...)
			require.Equal(t, tt.code, res.code, res.stderr)
			for _, s := range tt.stderr {
				require.Contains(t, res.stderr, s)
			}
			if tt.code == cli.ExitUsage {
				_, err := os.Stat(lake)
				require.ErrorIs(t, err, fs.ErrNotExist, "a usage error writes nothing")
			}
		})
	}
}

func TestReplaySetsBadRecordsAside(t *testing.T) {
	t.Parallel()
	lake := filepath.Join(t.TempDir(), "lake")
	res := ddblake(t, "", "replay", "--to", lake, fixture("inputs", "lambda", "bad_records.json"))
	require.Equal(t, cli.ExitPartial, res.code, res.stderr)
	sum := parseSummary(t, res.stderr)
	require.NotZero(t, sum.setAside)
	require.NotZero(t, sum.rows, "good records still land")

	entries := 0
	for rel := range laketest.Files(t, lake) {
		if !strings.HasPrefix(rel, "_errors/") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(lake, rel))
		require.NoError(t, err)
		for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			var e struct {
				Reason string  `json:"reason"`
				Source string  `json:"source"`
				Raw    *string `json:"raw"`
			}
			require.NoError(t, json.Unmarshal([]byte(line), &e), line)
			require.NotEmpty(t, e.Reason)
			require.Contains(t, e.Source, "bad_records.json")
			require.NotNil(t, e.Raw)
			require.True(t, json.Valid([]byte(*e.Raw)), "raw is the record as read: %s", *e.Raw)
			entries++
		}
	}
	require.Equal(t, sum.setAside, entries, "every set-aside record is in _errors/ with its reason and raw bytes")
}

func TestReplayNeverWritesOutsideTheLake(t *testing.T) {
	t.Parallel()
	parent := t.TempDir()
	lake := filepath.Join(parent, "lake")
	res := ddblake(t, "", "replay", "--to", lake, fixture("cli", "escape"))
	require.Equal(t, cli.ExitPartial, res.code, res.stderr)
	require.Contains(t, res.stderr, `invalid table name: "../../etc"`)
	sum := parseSummary(t, res.stderr)
	// "...." is a valid DynamoDB table name that sanitizes to nothing: it
	// lands in a table named by its hash, inside the lake.
	require.Equal(t, map[string]int{"good_table": 3, flatten.TableName("...."): 1}, sum.tables)
	require.Regexp(t, `^table_[0-9a-f]{8}$`, flatten.TableName("...."))

	require.NoError(t, filepath.WalkDir(parent, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == parent {
			return err
		}
		rel, err := filepath.Rel(lake, p)
		require.NoError(t, err)
		require.False(t, rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)), "written outside the lake: %s", p)
		require.NotContains(t, filepath.Base(p), "etc")
		require.NotContains(t, filepath.Base(p), "passwd")
		return nil
	}))
	_, err := os.Stat(filepath.Join(lake, "_errors", "_unknown"))
	require.NoError(t, err, "records of bad tables are set aside under _unknown")
}

func TestReplayWriteErrors(t *testing.T) {
	t.Parallel()
	// A file where the chat_rooms table's folder should be: every put of
	// that table fails, the other table still lands.
	lake := filepath.Join(t.TempDir(), "lake")
	require.NoError(t, os.MkdirAll(lake, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(lake, "chat_rooms"), []byte("in the way"), 0o644))
	res := ddblake(t, "", "replay", "--to", lake, fixture("sample", "lambda"))
	require.Equal(t, cli.ExitFailed, res.code, res.stderr)
	require.Contains(t, res.stderr, "write error: ")
	require.Contains(t, res.stderr, "table chat_rooms")
	require.Regexp(t, `; [\d,]+ records not written \(2 write errors\)`, res.stderr)
	sum := parseSummary(t, res.stderr)
	rows, _ := parquetRows(t, lake)
	require.Equal(t, rows, sum.tables, "what the summary counts is what landed")
	require.NotZero(t, rows["chat_messages"])
	require.Zero(t, rows["chat_rooms"])

	notDir := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(notDir, nil, 0o644))
	res = ddblake(t, "", "replay", "--to", notDir, fixture("inputs", "lambda", "chat_stream.json"))
	require.Equal(t, cli.ExitFailed, res.code, res.stderr)
	require.Contains(t, res.stderr, notDir)
}

func TestReplayStdin(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(fixture("inputs", "jsonl", "stream.jsonl"))
	require.NoError(t, err)
	lake := filepath.Join(t.TempDir(), "lake")
	res := ddblake(t, string(data), "replay", "--to", lake, "--format", "jsonl", "-")
	require.Equal(t, cli.ExitOK, res.code, res.stderr)
	sum := parseSummary(t, res.stderr)
	rows, _ := parquetRows(t, lake)
	require.Equal(t, rows, sum.tables)
	require.NotZero(t, sum.rows)

	twice := ddblake(t, string(data), "replay", "--to", lake, "-", "-")
	require.Equal(t, cli.ExitUsage, twice.code)
	require.Contains(t, twice.stderr, "standard input (-) can be read only once")
}

func TestUsage(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"unknown command", []string{"frobnicate"}, cli.ExitUsage, "", `unknown command "frobnicate"`},
		{"help", []string{"--help"}, cli.ExitOK, "replay", ""},
		{"replay help", []string{"replay", "--help"}, cli.ExitOK, "Exit codes", ""},
		{"version", []string{"version"}, cli.ExitOK, "ddblake ", ""},
		{"version takes no arguments", []string{"version", "x"}, cli.ExitUsage, "", "unknown command"},
		{"flatten without sources", []string{"flatten"}, cli.ExitUsage, "", "flatten: need at least one SOURCE"},
		{"infer without sources", []string{"infer"}, cli.ExitUsage, "", "infer: need at least one SOURCE"},
		{"infer bad format", []string{"infer", "--format", "xml", "x"}, cli.ExitUsage, "", `infer: --format "xml"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := ddblake(t, "", tt.args...)
			require.Equal(t, tt.code, res.code, res.stderr)
			require.Contains(t, res.stdout, tt.stdout)
			require.Contains(t, res.stderr, tt.stderr)
		})
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	res := ddblake(t, "", "version")
	require.Equal(t, cli.ExitOK, res.code)
	b := cli.Build()
	require.Equal(t, "ddblake "+b.Version+" (commit "+b.Commit+", "+b.GoVersion+")\n", res.stdout)
	require.True(t, strings.HasPrefix(b.GoVersion, "go"), b.GoVersion)
}

func TestFlattenGolden(t *testing.T) {
	tests := []struct {
		name, golden string
		args         []string
		code         int
		stderr       []string
	}{
		{"lambda", "chat_stream.golden.jsonl", []string{fixture("inputs", "lambda", "chat_stream.json")}, cli.ExitOK, nil},
		{"kinesis", "kinesis_ms.golden.jsonl", []string{fixture("inputs", "kinesis", "chat_ms.json")}, cli.ExitOK, nil},
		{"bad records", "bad_records.golden.jsonl", []string{fixture("inputs", "lambda", "bad_records.json")}, cli.ExitPartial,
			[]string{"set aside: " + fixture("inputs", "lambda", "bad_records.json") + ": line 4: record 2: dynamodb.NewImage.pinned: attribute value has more than one type"}},
		{"declared types", "declared.golden.jsonl", []string{"--config", fixture("cli", "flatten", "declared.yaml"), fixture("cli", "infer")}, cli.ExitOK, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := ddblake(t, "", append([]string{"flatten"}, tt.args...)...)
			require.Equal(t, tt.code, res.code, res.stderr)
			for _, s := range tt.stderr {
				require.Contains(t, res.stderr, s)
			}
			for i, line := range strings.Split(strings.TrimSuffix(res.stdout, "\n"), "\n") {
				var row map[string]any
				require.NoError(t, json.Unmarshal([]byte(line), &row), "line %d", i+1)
				require.Contains(t, row, "_table")
				require.Contains(t, row, "_event_time")
			}
			golden := fixture("cli", "flatten", tt.golden)
			if *update {
				require.NoError(t, os.WriteFile(golden, []byte(res.stdout), 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "run go test -update to create it")
			require.Equal(t, string(want), res.stdout)
		})
	}
}
