package e2e

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/pipeline/ionexport"
)

// The lenient oracle reads fixtures that are broken on purpose: it keeps
// what can be read before a break (a truncated document, a corrupt gzip
// stream, a missing data file) and leaves out the records a test names as
// bad, so that the good records of a bad input can be expected in the lake.

// recordRef names one record: its input (a path suffix) and its index as
// ddblake counts it (Records[] position, 0-based, for event documents; line
// number, 1-based, for line files and export data files).
type recordRef struct {
	Source string
	Index  int
}

// readPrefix reads a file, gunzipping it, up to the first error.
func readPrefix(t *testing.T, path string) (data []byte, complete bool) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	if len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		return b, true
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, false
	}
	out, err := io.ReadAll(zr)
	return out, err == nil
}

// ionLines returns the items of Ion export data as the DynamoDB JSON
// lines ddblake reads them as (item n is line n), up to where the data
// breaks; an item DynamoDB cannot hold keeps its line.
func ionLines(data []byte) [][]byte {
	r := ionexport.NewReader(bytes.NewReader(data), 0)
	var out [][]byte
	for {
		line, err := r.Next()
		var se *ionexport.StreamError
		if err == io.EOF || errors.As(err, &se) {
			return out
		}
		out = append(out, bytes.Clone(line))
	}
}

// isBad reports whether the record at index of the file path is one of bad.
func isBad(bad []recordRef, path string, index int) bool {
	for _, r := range bad {
		if r.Index == index && strings.HasSuffix(filepath.ToSlash(path), r.Source) {
			return true
		}
	}
	return false
}

// readGood returns the records of the sources that are readable and not
// listed in bad.
func readGood(t *testing.T, bad []recordRef, paths ...string) []expRecord {
	t.Helper()
	var out []expRecord
	for _, p := range paths {
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			if _, err := os.Stat(filepath.Join(p, "manifest-summary.json")); err != nil {
				matches, _ := filepath.Glob(filepath.Join(p, "AWSDynamoDB", "*", "manifest-summary.json"))
				require.Len(t, matches, 1, p)
				p = filepath.Dir(matches[0])
			}
			out = append(out, readGoodExport(t, bad, p)...)
			continue
		}
		out = append(out, readGoodFile(t, bad, p)...)
	}
	return out
}

func readGoodFile(t *testing.T, bad []recordRef, path string) []expRecord {
	t.Helper()
	data, complete := readPrefix(t, path)
	var out []expRecord
	if trimmed := bytes.TrimSpace(data); bytes.HasPrefix(trimmed, []byte("{")) && bytes.Contains(trimmed[:min(len(trimmed), 64)], []byte(`"Records"`)) {
		// An event document: decode Records[] element by element until
		// the document breaks.
		dec := json.NewDecoder(bytes.NewReader(trimmed))
		for _, want := range []string{"{", "Records", "["} {
			tok, err := dec.Token()
			require.NoError(t, err)
			require.Equal(t, want, strings.Trim(tokString(tok), `"`))
		}
		for i := 0; dec.More(); i++ {
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				break // truncated: the rest is not a record
			}
			if !isBad(bad, path, i) {
				out = append(out, readEventRecord(t, path, "", raw))
			}
		}
		return out
	}
	lines := bytes.Split(data, []byte("\n"))
	if !complete && len(lines) > 0 {
		lines = lines[:len(lines)-1] // the line the break cut
	}
	for i, line := range lines {
		if len(bytes.TrimSpace(line)) == 0 || isBad(bad, path, i+1) {
			continue
		}
		out = append(out, readEventRecord(t, path, "", line))
	}
	return out
}

func tokString(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		return v.String()
	case string:
		return v
	}
	return ""
}

// readGoodExport reads the data files an export's manifest lists, those
// that exist, up to their breaks.
func readGoodExport(t *testing.T, bad []recordRef, dir string) []expRecord {
	t.Helper()
	var sum struct {
		TableArn     string `json:"tableArn"`
		ExportTime   string `json:"exportTime"`
		ExportType   string `json:"exportType"`
		OutputFormat string `json:"outputFormat"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "manifest-summary.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &sum))
	full := readExportSummaryTime(t, sum.ExportTime)
	table := lakeTableName(sum.TableArn[strings.LastIndex(sum.TableArn, "/")+1:])
	manifest, err := os.ReadFile(filepath.Join(dir, "manifest-files.json"))
	require.NoError(t, err)
	var out []expRecord
	for _, line := range bytes.Split(manifest, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var entry struct {
			DataFileS3Key string `json:"dataFileS3Key"`
		}
		require.NoError(t, json.Unmarshal(line, &entry))
		path := filepath.Join(dir, "data", filepath.Base(entry.DataFileS3Key))
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			continue
		}
		data, complete := readPrefix(t, path)
		lines := bytes.Split(data, []byte("\n"))
		if !complete && len(lines) > 0 {
			lines = lines[:len(lines)-1]
		}
		if ionexport.IsIon(data) {
			lines = ionLines(data)
		}
		for i, l := range lines {
			if len(bytes.TrimSpace(l)) == 0 || isBad(bad, path, i+1) {
				continue
			}
			out = append(out, readExportLine(t, path, table, full, sum.ExportType == "INCREMENTAL_EXPORT", l))
		}
	}
	return out
}
