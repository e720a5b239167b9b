package e2e

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/pipeline/ionexport"
)

// The oracle reads the fixtures with encoding/json only, following
// docs/FORMATS.md and the row model of docs/DESIGN.md, so that what the
// tests expect of the lake never comes from ddblake's own code.

// attrs is a DynamoDB JSON item or map: attribute name to typed value
// ({"S":"..."}, {"N":"..."}, {"M":{...}}, ...).
type attrs map[string]json.RawMessage

// expRecord is one change record of a fixture, as the lake must hold it.
type expRecord struct {
	Source  string
	Table   string // lake table name
	Event   string // INSERT, MODIFY, REMOVE or SNAPSHOT
	EventID string
	Seq     string // as the lake stores it: 40-digit padded, Kinesis kept, empty for exports
	Micros  int64  // event time as the input gives it
	TTL     bool
	Keys    attrs
	Image   attrs // the item the row is made from
}

// Millis is the row's _event_time in Unix milliseconds (floored).
func (r expRecord) Millis() int64 { return floorDiv(r.Micros, 1000) }

// Day is the row's dt partition.
func (r expRecord) Day() string {
	return time.UnixMilli(r.Millis()).UTC().Format(time.DateOnly)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// lakeTableName is the lake name of the DynamoDB tables the fixtures use
// (lower case, '-' and '.' to '_').
func lakeTableName(ddb string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(ddb) {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			b.WriteRune(c)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

// readFixtures reads every record of the given files and directories
// (walked; a folder holding manifest-summary.json is read through its
// manifests). table names the table of stream records without an ARN.
func readFixtures(t *testing.T, table string, paths ...string) []expRecord {
	t.Helper()
	var out []expRecord
	for _, p := range paths {
		st, err := os.Stat(p)
		require.NoError(t, err)
		if !st.IsDir() {
			out = append(out, readFixtureFile(t, table, p)...)
			continue
		}
		var exports []string
		require.NoError(t, filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if _, err := os.Stat(filepath.Join(path, "manifest-summary.json")); err == nil {
					exports = append(exports, path)
					return filepath.SkipDir
				}
				return nil
			}
			if strings.HasPrefix(d.Name(), ".") || d.Name() == "_started" {
				return nil
			}
			out = append(out, readFixtureFile(t, table, path)...)
			return nil
		}))
		for _, e := range exports {
			out = append(out, readExport(t, e)...)
		}
	}
	return out
}

// readAll reads a file, gunzipping it when it starts with the gzip magic.
func readAll(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	if len(b) > 2 && b[0] == 0x1f && b[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		require.NoError(t, err)
		b, err = io.ReadAll(zr)
		require.NoError(t, err, path)
	}
	return b
}

// readFixtureFile reads an event document ({"Records":[...]}, Lambda or
// Kinesis) or a file of records one per line (stream records or the
// decoded data of Kinesis records).
func readFixtureFile(t *testing.T, table, path string) []expRecord {
	t.Helper()
	b := readAll(t, path)
	var doc struct {
		Records []json.RawMessage `json:"Records"`
	}
	if trimmed := bytes.TrimSpace(b); len(trimmed) > 0 && json.Unmarshal(trimmed, &doc) == nil && doc.Records != nil {
		out := make([]expRecord, 0, len(doc.Records))
		for _, r := range doc.Records {
			out = append(out, readEventRecord(t, path, table, r))
		}
		return out
	}
	var out []expRecord
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		out = append(out, readEventRecord(t, path, table, line))
	}
	require.NoError(t, sc.Err())
	return out
}

// streamRecord is a DynamoDB stream record (a Records[] element of a
// Lambda event, a line of a stream dump, or the decoded data of a Kinesis
// record).
type streamRecord struct {
	EventID        string          `json:"eventID"`
	EventName      string          `json:"eventName"`
	EventSourceARN string          `json:"eventSourceARN"`
	TableName      string          `json:"tableName"` // Kinesis data
	UserIdentity   *userIdentity   `json:"userIdentity"`
	Kinesis        *kinesisPayload `json:"kinesis"`
	Dynamodb       *struct {
		ApproximateCreationDateTime          json.RawMessage `json:"ApproximateCreationDateTime"`
		ApproximateCreationDateTimePrecision string          `json:"ApproximateCreationDateTimePrecision"`
		SequenceNumber                       string          `json:"SequenceNumber"`
		Keys                                 attrs           `json:"Keys"`
		NewImage                             attrs           `json:"NewImage"`
		OldImage                             attrs           `json:"OldImage"`
	} `json:"dynamodb"`
}

type userIdentity struct {
	Type        string `json:"type"`
	PrincipalID string `json:"principalId"`
}

type kinesisPayload struct {
	SequenceNumber string `json:"sequenceNumber"`
	Data           string `json:"data"`
}

func readEventRecord(t *testing.T, source, table string, raw []byte) expRecord {
	t.Helper()
	var r streamRecord
	require.NoError(t, json.Unmarshal(raw, &r), "%s: %.200s", source, raw)
	seq := ""
	kinesis := false
	if r.Kinesis != nil {
		data, err := base64.StdEncoding.DecodeString(r.Kinesis.Data)
		require.NoError(t, err, source)
		seq = r.Kinesis.SequenceNumber
		r = streamRecord{}
		require.NoError(t, json.Unmarshal(data, &r), source)
		kinesis = true
	} else if r.TableName != "" {
		kinesis = true // the data of a Kinesis record, without its envelope
	}
	require.NotNil(t, r.Dynamodb, "%s: %.200s", source, raw)
	ddb := r.Dynamodb
	rec := expRecord{Source: source, Event: r.EventName, EventID: r.EventID, Keys: ddb.Keys}
	switch {
	case kinesis:
		rec.Table = r.TableName
		unit := int64(1000) // ms to µs
		if ddb.ApproximateCreationDateTimePrecision == "MICROSECOND" {
			unit = 1
		}
		rec.Micros = mustInt(t, ddb.ApproximateCreationDateTime) * unit
		rec.Seq = seq
	default:
		if i := strings.Index(r.EventSourceARN, ":table/"); i >= 0 {
			rec.Table = strings.SplitN(r.EventSourceARN[i+len(":table/"):], "/", 2)[0]
		} else {
			rec.Table = table
		}
		rec.Micros = secondsMicros(t, ddb.ApproximateCreationDateTime)
		rec.Seq = strings.Repeat("0", max(0, 40-len(ddb.SequenceNumber))) + ddb.SequenceNumber
	}
	rec.Table = lakeTableName(rec.Table)
	rec.TTL = r.EventName == "REMOVE" && r.UserIdentity != nil &&
		r.UserIdentity.Type == "Service" && r.UserIdentity.PrincipalID == "dynamodb.amazonaws.com"
	rec.Image = pickImage(rec.Event, ddb.NewImage, ddb.OldImage, ddb.Keys)
	return rec
}

// pickImage is the item of the row: the NewImage, for a REMOVE the
// OldImage, and the Keys when the stream view has no such image.
func pickImage(event string, newImage, oldImage, keys attrs) attrs {
	img := newImage
	if event == "REMOVE" {
		img = oldImage
	}
	if img == nil {
		img = keys
	}
	return img
}

// mustInt reads a JSON integer.
func mustInt(t *testing.T, raw json.RawMessage) int64 {
	t.Helper()
	var n json.Number
	require.NoError(t, json.Unmarshal(raw, &n), "%s", raw)
	v, err := n.Int64()
	require.NoError(t, err)
	return v
}

// secondsMicros reads epoch seconds (integer, fraction, or a numeric
// string) or an RFC 3339 time, exactly, as Unix microseconds.
func secondsMicros(t *testing.T, raw json.RawMessage) int64 {
	t.Helper()
	var s string
	if json.Unmarshal(raw, &s) != nil {
		s = string(raw)
	}
	if r, ok := new(big.Rat).SetString(s); ok {
		r.Mul(r, big.NewRat(1_000_000, 1))
		return floorRat(r)
	}
	tm, err := time.Parse(time.RFC3339Nano, s)
	require.NoError(t, err, "event time %s", raw)
	return tm.UnixMicro()
}

func floorRat(r *big.Rat) int64 {
	q := new(big.Int).Div(r.Num(), r.Denom()) // Euclidean: floors for a positive denominator
	return q.Int64()
}

// readExport reads a full or incremental export through its manifests.
func readExport(t *testing.T, dir string) []expRecord {
	t.Helper()
	var sum struct {
		TableArn   string `json:"tableArn"`
		ExportTime string `json:"exportTime"`
		ExportType string `json:"exportType"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "manifest-summary.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &sum))
	table := lakeTableName(sum.TableArn[strings.LastIndex(sum.TableArn, "/")+1:])
	exportMicros := readExportSummaryTime(t, sum.ExportTime)
	manifest, err := os.ReadFile(filepath.Join(dir, "manifest-files.json"))
	require.NoError(t, err)
	var out []expRecord
	for _, line := range bytes.Split(manifest, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var entry struct {
			ItemCount     int    `json:"itemCount"`
			DataFileS3Key string `json:"dataFileS3Key"`
		}
		require.NoError(t, json.Unmarshal(line, &entry))
		// The key is relative to the bucket and prefix; the data file is
		// data/<name> beside the manifest.
		path := filepath.Join(dir, "data", filepath.Base(entry.DataFileS3Key))
		n := 0
		data := readAll(t, path)
		lines := bytes.Split(data, []byte("\n"))
		if ionexport.IsIon(data) {
			lines = ionLines(data)
		}
		for _, l := range lines {
			if len(bytes.TrimSpace(l)) == 0 {
				continue
			}
			n++
			out = append(out, readExportLine(t, path, table, exportMicros, sum.ExportType == "INCREMENTAL_EXPORT", l))
		}
		require.Equal(t, entry.ItemCount, n, "fixture %s: manifest item count", path)
	}
	return out
}

// readExportSummaryTime reads exportTime (RFC 3339) as Unix microseconds;
// incremental exports have none.
func readExportSummaryTime(t *testing.T, s string) int64 {
	t.Helper()
	if s == "" {
		return 0
	}
	tm, err := time.Parse(time.RFC3339Nano, s)
	require.NoError(t, err)
	return tm.UnixMicro()
}

func readExportLine(t *testing.T, source, table string, exportMicros int64, incremental bool, line []byte) expRecord {
	t.Helper()
	if !incremental {
		var l struct {
			Item attrs `json:"Item"`
		}
		require.NoError(t, json.Unmarshal(line, &l))
		return expRecord{Source: source, Table: table, Event: "SNAPSHOT", Micros: exportMicros, Image: l.Item}
	}
	var l struct {
		Metadata struct {
			WriteTimestampMicros json.RawMessage `json:"WriteTimestampMicros"`
		} `json:"Metadata"`
		Keys     attrs `json:"Keys"`
		NewImage attrs `json:"NewImage"`
		OldImage attrs `json:"OldImage"`
	}
	require.NoError(t, json.Unmarshal(line, &l))
	ts := l.Metadata.WriteTimestampMicros
	var wrapped struct {
		N string `json:"N"`
	}
	var micros int64
	switch {
	case json.Unmarshal(ts, &wrapped) == nil && wrapped.N != "":
		_, err := fmt.Sscan(wrapped.N, &micros)
		require.NoError(t, err)
	default:
		var s string
		if json.Unmarshal(ts, &s) == nil {
			_, err := fmt.Sscan(s, &micros)
			require.NoError(t, err)
		} else {
			micros = mustInt(t, ts)
		}
	}
	event := "MODIFY"
	switch {
	case l.NewImage == nil:
		event = "REMOVE"
	case l.OldImage == nil:
		event = "INSERT"
	}
	return expRecord{Source: source, Table: table, Event: event, Micros: micros, Keys: l.Keys,
		Image: pickImage(event, l.NewImage, l.OldImage, l.Keys)}
}

// countBy counts records per key.
func countBy(recs []expRecord, key func(expRecord) string) map[string]int {
	out := map[string]int{}
	for _, r := range recs {
		out[key(r)]++
	}
	return out
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
