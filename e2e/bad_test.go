package e2e

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/pipeline/ionexport"
)

// quarantined is one line of a file under <lake>/_errors/.
type quarantined struct {
	Reason    string `json:"reason"`
	Source    string `json:"source"`
	Index     int    `json:"index"`
	Path      string `json:"path"`
	ErrorKind string `json:"error_kind"`
	Table     string `json:"table"`
	Raw       string `json:"raw"`
	RawBase64 string `json:"raw_base64"`
	file      string // the _errors file, relative to the lake
}

// bytes returns the record's raw bytes.
func (q quarantined) bytes(t *testing.T) []byte {
	t.Helper()
	if q.RawBase64 != "" {
		b, err := base64.StdEncoding.DecodeString(q.RawBase64)
		require.NoError(t, err)
		return b
	}
	return []byte(q.Raw)
}

// readQuarantine reads every set-aside record of the lake.
func readQuarantine(t *testing.T, lake string) []quarantined {
	t.Helper()
	var out []quarantined
	root := filepath.Join(lake, "_errors")
	if _, err := os.Stat(root); os.IsNotExist(err) {
		return nil
	}
	require.NoError(t, filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), ".") {
			return err
		}
		rel, _ := filepath.Rel(lake, p)
		require.True(t, strings.HasSuffix(p, ".jsonl"), "set-aside files are JSON lines: %s", rel)
		// Records under their table and day; inputs that could not be read
		// to the end under _inputs.
		require.Regexp(t, `^_errors/([a-z0-9_]+/dt=\d{4}-\d{2}-\d{2}|_inputs)/[^/]+\.jsonl$`, filepath.ToSlash(rel))
		f, err := os.Open(p)
		require.NoError(t, err)
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 64<<20)
		for sc.Scan() {
			var q quarantined
			require.NoError(t, json.Unmarshal(sc.Bytes(), &q), "%s: %s", rel, sc.Text())
			q.file = filepath.ToSlash(rel)
			out = append(out, q)
		}
		return sc.Err()
	}))
	return out
}

// asideWant is a range of records that must be set aside: indices From to
// To of the input whose path ends with Source, with a reason that says
// Reason.
type asideWant struct {
	Source   string
	From, To int
	Reason   string
}

func (a asideWant) refs() []recordRef {
	var out []recordRef
	for i := a.From; i <= a.To; i++ {
		out = append(out, recordRef{Source: a.Source, Index: i})
	}
	return out
}

// badCase is one replay of broken inputs.
type badCase struct {
	name    string
	sources []string
	exit    []int
	// messages must appear on stderr: each names the file and where it
	// broke.
	messages []string
	aside    []asideWant
	// broken are the inputs (path suffixes) that cannot be read to the end.
	broken []string
}

func badCases() []badCase {
	in := func(p ...string) string { return fixture(append([]string{"inputs"}, p...)...) }
	const exportDir = "AWSDynamoDB/01775001600000-a1b2c3d4/data/"
	return []badCase{
		{
			name:     "truncated-json",
			sources:  []string{in("lambda", "truncated.json")},
			exit:     []int{3},
			messages: []string{"truncated.json: line 141: record 3", "truncated JSON"},
			broken:   []string{"lambda/truncated.json"},
		},
		{
			name:     "empty-file-beside-a-good-one",
			sources:  []string{in("lambda", "empty.json"), in("jsonl", "empty.jsonl"), in("lambda", "chat_stream.json")},
			exit:     []int{3},
			messages: []string{"empty.json: empty input", "empty.jsonl: empty input"},
			broken:   []string{"lambda/empty.json", "jsonl/empty.jsonl"},
		},
		{
			name:     "only-empty-files",
			sources:  []string{in("lambda", "empty.json"), in("jsonl", "blank.jsonl")},
			exit:     []int{1, 3}, // nothing could be read; DESIGN allows either reading
			messages: []string{"empty.json: empty input", "blank.jsonl: empty input"},
			broken:   []string{"lambda/empty.json", "jsonl/blank.jsonl"},
		},
		{
			name: "corrupt-gzip",
			sources: []string{
				in("jsonl", "corrupt_truncated.jsonl.gz"),
				in("jsonl", "corrupt_flipped.jsonl.gz"),
				in("export", "corrupt_gzip"),
			},
			exit: []int{3},
			messages: []string{
				"corrupt_truncated.jsonl.gz: line 46: corrupt gzip data",
				"corrupt_flipped.jsonl.gz: line 81: corrupt gzip data",
				"k7w2pq9xzt4rmb6nd3cyv5ehaf.json.gz: line 30: corrupt gzip data",
			},
			// The flipped bytes make lines 37 to 80 invalid JSON before the
			// gzip checksum fails at the end.
			aside: []asideWant{{Source: "jsonl/corrupt_flipped.jsonl.gz", From: 37, To: 80, Reason: "not valid JSON"}},
			broken: []string{
				"jsonl/corrupt_truncated.jsonl.gz",
				"jsonl/corrupt_flipped.jsonl.gz",
				"corrupt_gzip/" + exportDir + "k7w2pq9xzt4rmb6nd3cyv5ehaf.json.gz",
			},
		},
		{
			name:     "manifest-md5-mismatch",
			sources:  []string{in("export", "bad_md5")},
			exit:     []int{3},
			messages: []string{"q4n6zb2kwe5dtlsyc7xh3ujvpa.json.gz: MD5 checksum mismatch"},
			aside:    []asideWant{{Source: "bad_md5/" + exportDir + "q4n6zb2kwe5dtlsyc7xh3ujvpa.json.gz", From: 1, To: 4, Reason: "MD5"}},
			broken:   []string{"bad_md5/" + exportDir + "q4n6zb2kwe5dtlsyc7xh3ujvpa.json.gz"},
		},
		{
			name:     "manifest-item-count-mismatch",
			sources:  []string{in("export", "bad_count")},
			exit:     []int{3},
			messages: []string{"xyz3fxa5rm3hplhyqvxlrmfxtm.json.gz: item count mismatch"},
			aside:    []asideWant{{Source: "bad_count/" + exportDir + "xyz3fxa5rm3hplhyqvxlrmfxtm.json.gz", From: 1, To: 5, Reason: "item count"}},
			broken:   []string{"bad_count/" + exportDir + "xyz3fxa5rm3hplhyqvxlrmfxtm.json.gz"},
		},
		{
			name:     "missing-export-data-file",
			sources:  []string{in("export", "missing_file")},
			exit:     []int{3},
			messages: []string{"mfj2oyd5vkxlr7e3i4hgtwcbsa.json.gz: missing export data file"},
			broken:   []string{"missing_file/" + exportDir + "mfj2oyd5vkxlr7e3i4hgtwcbsa.json.gz"},
		},
		{
			name:    "bad-records",
			sources: []string{in("lambda", "bad_records.json")},
			exit:    []int{3},
			aside: []asideWant{
				{Source: "lambda/bad_records.json", From: 1, To: 1, Reason: `unknown attribute type: "X"`},
				{Source: "lambda/bad_records.json", From: 2, To: 2, Reason: "more than one type"},
				{Source: "lambda/bad_records.json", From: 3, To: 3, Reason: "N is not a number"},
				{Source: "lambda/bad_records.json", From: 4, To: 4, Reason: "1E+200"},
				{Source: "lambda/bad_records.json", From: 5, To: 5, Reason: "base64"},
				{Source: "lambda/bad_records.json", From: 6, To: 6, Reason: "32 levels"},
				{Source: "lambda/bad_records.json", From: 7, To: 7, Reason: "invalid table name"},
				{Source: "lambda/bad_records.json", From: 8, To: 8, Reason: "sequence number"},
				{Source: "lambda/bad_records.json", From: 9, To: 9, Reason: "event time"},
				{Source: "lambda/bad_records.json", From: 10, To: 10, Reason: "UPSERT"},
			},
		},
		{
			name:    "bad-kinesis-records",
			sources: []string{in("kinesis", "bad.json")},
			exit:    []int{3},
			aside: []asideWant{
				{Source: "kinesis/bad.json", From: 1, To: 1, Reason: `invalid table name: "../../etc"`},
				{Source: "kinesis/bad.json", From: 2, To: 2, Reason: "NANOSECOND"},
				{Source: "kinesis/bad.json", From: 3, To: 3, Reason: "base64"},
			},
		},
		{
			name:    "export-table-outside-the-lake",
			sources: []string{in("export", "bad_table")},
			exit:    []int{3},
			aside: []asideWant{
				{Source: "bad_table/" + exportDir + "xyz3fxa5rm3hplhyqvxlrmfxtm.json.gz", From: 1, To: 5, Reason: "invalid table name"},
				{Source: "bad_table/" + exportDir + "q4n6zb2kwe5dtlsyc7xh3ujvpa.json.gz", From: 1, To: 4, Reason: "invalid table name"},
				{Source: "bad_table/" + exportDir + "mfj2oyd5vkxlr7e3i4hgtwcbsa.json.gz", From: 1, To: 3, Reason: "invalid table name"},
			},
		},
		{
			name:     "ion-export-bad-items",
			sources:  []string{in("export", "ion_bad")},
			exit:     []int{3},
			messages: []string{"t3ks8wq2vf6bn4mzo7lhx5yrje.ion.gz: line 2: offset 437: unreadable Ion data"},
			aside: []asideWant{
				{Source: "ion_bad/" + exportDir + "b6dn2lq7xk4hy5vezr3ctmwa9f.ion.gz", From: 2, To: 2, Reason: "Item.price: unreadable Ion data: Ion value DynamoDB cannot hold: an Ion float"},
				{Source: "ion_bad/" + exportDir + "b6dn2lq7xk4hy5vezr3ctmwa9f.ion.gz", From: 3, To: 3, Reason: "an Ion timestamp"},
				{Source: "ion_bad/" + exportDir + "b6dn2lq7xk4hy5vezr3ctmwa9f.ion.gz", From: 4, To: 4, Reason: "an Ion symbol"},
				{Source: "ion_bad/" + exportDir + "b6dn2lq7xk4hy5vezr3ctmwa9f.ion.gz", From: 5, To: 5, Reason: "unknown Ion annotation: $dynamodb_XS"},
			},
			broken: []string{"ion_bad/" + exportDir + "t3ks8wq2vf6bn4mzo7lhx5yrje.ion.gz"},
		},
		{
			name:     "ion-manifest-md5-mismatch",
			sources:  []string{in("export", "ion_bad_md5")},
			exit:     []int{3},
			messages: []string{"q4n6zb2kwe5dtlsyc7xh3ujvpa.ion.gz: MD5 checksum mismatch"},
			aside:    []asideWant{{Source: "ion_bad_md5/" + exportDir + "q4n6zb2kwe5dtlsyc7xh3ujvpa.ion.gz", From: 1, To: 4, Reason: "MD5"}},
			broken:   []string{"ion_bad_md5/" + exportDir + "q4n6zb2kwe5dtlsyc7xh3ujvpa.ion.gz"},
		},
		{
			name:     "ion-manifest-item-count-mismatch",
			sources:  []string{in("export", "ion_bad_count")},
			exit:     []int{3},
			messages: []string{"xyz3fxa5rm3hplhyqvxlrmfxtm.ion.gz: item count mismatch"},
			aside:    []asideWant{{Source: "ion_bad_count/" + exportDir + "xyz3fxa5rm3hplhyqvxlrmfxtm.ion.gz", From: 1, To: 5, Reason: "item count"}},
			broken:   []string{"ion_bad_count/" + exportDir + "xyz3fxa5rm3hplhyqvxlrmfxtm.ion.gz"},
		},
	}
}

// TestBadInputs replays broken inputs: each gives a message naming the
// file and the line or record, the exit code of a partial run, its bad
// records in <lake>/_errors/ with the reason and the exact raw bytes, its
// good records in the lake (read back with DuckDB, value by value), and
// nothing written outside the lake.
func TestBadInputs(t *testing.T) {
	t.Parallel()
	inputsBefore := treeState(t, fixture("inputs"))
	for _, tc := range badCases() {
		t.Run(tc.name, func(t *testing.T) {
			sandbox := t.TempDir()
			parent := filepath.Dir(sandbox)
			require.NoError(t, os.Mkdir(filepath.Join(sandbox, "lake"), 0o755))
			lake := filepath.Join(sandbox, "lake")
			before := withoutLake(treeState(t, parent), sandbox, parent)

			res := ddblake(t, sandbox, append([]string{"replay", "--to", "lake"}, tc.sources...)...)
			require.Contains(t, tc.exit, res.Code, "exit code; stderr:\n%s", res.Stderr)
			for _, m := range tc.messages {
				require.Contains(t, res.Stderr, m)
			}
			sum := res.Summary(t)

			// Nothing outside the lake, and the inputs untouched.
			require.Equal(t, before, withoutLake(treeState(t, parent), sandbox, parent), "files outside the lake")

			// Every bad record is set aside once, with its reason and bytes.
			entries := readQuarantine(t, lake)
			var bad []recordRef
			for _, a := range tc.aside {
				bad = append(bad, a.refs()...)
			}
			for _, ref := range bad {
				var found []quarantined
				for _, q := range entries {
					if q.Index == ref.Index && strings.HasSuffix(filepath.ToSlash(q.Source), ref.Source) {
						found = append(found, q)
					}
				}
				require.Len(t, found, 1, "set-aside entries of %s record %d", ref.Source, ref.Index)
				q := found[0]
				want := reasonOf(tc.aside, ref)
				require.Contains(t, q.Reason, want, "%s record %d", ref.Source, ref.Index)
				require.Contains(t, q.Reason, filepath.Base(ref.Source), "the reason names the file")
				require.Regexp(t, fmt.Sprintf(`(record %d\b|line %d\b)`, ref.Index, ref.Index), q.Reason, "the reason says where")
				if strings.Contains(want, "table name") {
					require.True(t, strings.HasPrefix(q.file, "_errors/_unknown/"), "a bad table name is filed under _unknown: %s", q.file)
				}
				assertRawIsRecord(t, ref, q.bytes(t), tc.sources)
			}
			for _, q := range entries {
				known := slices.ContainsFunc(bad, func(r recordRef) bool {
					return q.Index == r.Index && strings.HasSuffix(filepath.ToSlash(q.Source), r.Source)
				}) || slices.ContainsFunc(tc.broken, func(b string) bool { return strings.HasSuffix(filepath.ToSlash(q.Source), b) })
				require.True(t, known, "unexpected set-aside entry: %s record %d: %s", q.Source, q.Index, q.Reason)
			}
			require.Equal(t, len(bad), sum.SetAside, "set aside: %s", sum.Line)

			// Every broken input is reported on its own line.
			require.Equal(t, len(tc.broken), sum.InputsBroken, sum.Line)
			for _, b := range tc.broken {
				require.Regexp(t, `(?m)^  input error: \S*`+regexpQuote(b), res.Stderr)
			}

			// The good records are in the lake, value by value.
			good := readGood(t, bad, tc.sources...)
			require.Equal(t, len(good), sum.Rows, "rows: %s", sum.Line)
			if len(good) > 0 {
				assertLake(t, lake, good)
			}
		})
	}
	require.Equal(t, inputsBefore, treeState(t, fixture("inputs")), "replay never writes beside its inputs")
}

// TestInputErrorsListedInErrors checks DESIGN's exit code 3 contract:
// inputs that could not be read to the end are "listed in _errors/ and the
// summary", so an operator finds them in the lake as well as on stderr.
func TestInputErrorsListedInErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range badCases() {
		if len(tc.broken) == 0 {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			lake := filepath.Join(t.TempDir(), "lake")
			ddblake(t, filepath.Dir(lake), append([]string{"replay", "--to", lake}, tc.sources...)...)
			entries := readQuarantine(t, lake)
			for _, b := range tc.broken {
				require.True(t, slices.ContainsFunc(entries, func(q quarantined) bool {
					return strings.HasSuffix(filepath.ToSlash(q.Source), b) && q.Reason != ""
				}), "no entry in %s/_errors names the input %s that could not be read to the end", lake, b)
			}
		})
	}
}

// reasonOf returns the reason wanted for a record.
func reasonOf(aside []asideWant, ref recordRef) string {
	for _, a := range aside {
		if a.Source == ref.Source && ref.Index >= a.From && ref.Index <= a.To {
			return a.Reason
		}
	}
	return ""
}

// assertRawIsRecord checks that raw is the record's exact bytes: the line
// of a line file or export data file, or the Records[] element of an event
// document (which must appear verbatim in the file).
func assertRawIsRecord(t *testing.T, ref recordRef, raw []byte, sources []string) {
	t.Helper()
	require.NotEmpty(t, raw, "%s record %d: raw bytes", ref.Source, ref.Index)
	path := findSource(t, ref.Source, sources)
	data, _ := readPrefix(t, path)
	if isEventDocument(data) {
		require.True(t, bytes.Contains(data, raw), "%s record %d: raw bytes are not in the file: %.200s", ref.Source, ref.Index, raw)
		var rec struct {
			EventID string `json:"eventID"`
		}
		require.NoError(t, json.Unmarshal(raw, &rec), "the raw bytes of an event record are its JSON")
		var doc struct {
			Records []json.RawMessage `json:"Records"`
		}
		if json.Unmarshal(data, &doc) == nil && ref.Index < len(doc.Records) {
			require.JSONEq(t, string(doc.Records[ref.Index]), string(raw), "%s record %d", ref.Source, ref.Index)
		}
		return
	}
	lines := bytes.Split(data, []byte("\n"))
	if ionexport.IsIon(data) {
		lines = ionLines(data) // the raw bytes of an Ion item are its JSON line
	}
	require.Greater(t, len(lines), ref.Index-1)
	require.Equal(t, string(bytes.TrimRight(lines[ref.Index-1], "\r")), string(raw), "%s line %d: raw bytes", ref.Source, ref.Index)
}

// isEventDocument tells a {"Records":[...]} document from JSON lines.
func isEventDocument(data []byte) bool {
	trimmed := bytes.TrimSpace(data)
	return bytes.HasPrefix(trimmed, []byte("{")) && bytes.Contains(trimmed[:min(len(trimmed), 64)], []byte(`"Records"`))
}

// findSource finds the file whose path ends with suffix, under sources.
func findSource(t *testing.T, suffix string, sources []string) string {
	t.Helper()
	for _, s := range sources {
		var found string
		_ = filepath.WalkDir(s, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(filepath.ToSlash(p), suffix) {
				found = p
			}
			return nil
		})
		if found != "" {
			return found
		}
	}
	t.Fatalf("no source ends with %s", suffix)
	return ""
}

// withoutLake drops the lake's subtree from a tree state of parent.
func withoutLake(state map[string]string, sandbox, parent string) map[string]string {
	rel, _ := filepath.Rel(parent, filepath.Join(sandbox, "lake"))
	rel = filepath.ToSlash(rel)
	out := map[string]string{}
	for k, v := range state {
		if k == rel || strings.HasPrefix(k, rel+"/") {
			continue
		}
		out[k] = v
	}
	return out
}

func regexpQuote(s string) string {
	var b strings.Builder
	for _, c := range s {
		if strings.ContainsRune(`\.+*?()|[]{}^$`, c) {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}
