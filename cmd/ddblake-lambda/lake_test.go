package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/parquet-go/parquet-go"
	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/sink"
	"github.com/ddblake/ddblake/sink/manifest"
)

// Helpers shared by the in-process and the emulator tests: what an event
// holds, read with encoding/json independently of the decoder, and what
// the lake holds, read back with parquet-go.

// wantRecord is one record of an event as the lake must show it.
type wantRecord struct {
	Index     int
	Table     string // DynamoDB table name
	EventName string
	Sequence  string // as given (DynamoDB or Kinesis)
	EventMS   int64
	Keys      map[string]any
	Image     map[string]any // NewImage, or OldImage for REMOVE
}

// padded is the sequence as _sequence_number holds it: DynamoDB ones
// zero-padded to 40 digits, longer (Kinesis) ones as they are.
func (w wantRecord) padded() string {
	if len(w.Sequence) >= 40 {
		return w.Sequence
	}
	return strings.Repeat("0", 40-len(w.Sequence)) + w.Sequence
}

// eventRecords reads a DynamoDB stream or Kinesis event.
func eventRecords(t testing.TB, payload []byte) []wantRecord {
	t.Helper()
	var doc struct{ Records []map[string]json.RawMessage }
	require.NoError(t, json.Unmarshal(payload, &doc))
	var out []wantRecord
	for i, r := range doc.Records {
		var ddb struct {
			EventName      string `json:"eventName"`
			EventSourceARN string `json:"eventSourceARN"`
			TableName      string `json:"tableName"`
			Dynamodb       struct {
				ApproximateCreationDateTime          json.Number
				ApproximateCreationDateTimePrecision string
				SequenceNumber                       string
				Keys, NewImage, OldImage             map[string]any
			} `json:"dynamodb"`
		}
		w := wantRecord{Index: i}
		if k, ok := r["kinesis"]; ok {
			var kin struct {
				SequenceNumber string `json:"sequenceNumber"`
				Data           string `json:"data"`
			}
			require.NoError(t, json.Unmarshal(k, &kin))
			data, err := base64.StdEncoding.DecodeString(kin.Data)
			require.NoError(t, err)
			require.NoError(t, json.Unmarshal(data, &ddb))
			w.Sequence, w.Table = kin.SequenceNumber, ddb.TableName
			n, err := ddb.Dynamodb.ApproximateCreationDateTime.Int64()
			require.NoError(t, err)
			if ddb.Dynamodb.ApproximateCreationDateTimePrecision == "MICROSECOND" {
				n /= 1000
			}
			w.EventMS = n
		} else {
			raw, err := json.Marshal(r)
			require.NoError(t, err)
			require.NoError(t, json.Unmarshal(raw, &ddb))
			w.Sequence = ddb.Dynamodb.SequenceNumber
			w.Table = strings.Split(ddb.EventSourceARN, "/")[1]
			w.EventMS = secondsToMillis(t, ddb.Dynamodb.ApproximateCreationDateTime.String())
		}
		w.EventName, w.Keys = ddb.EventName, ddb.Dynamodb.Keys
		w.Image = ddb.Dynamodb.NewImage
		if w.EventName == "REMOVE" {
			w.Image = ddb.Dynamodb.OldImage
		}
		if w.Image == nil {
			w.Image = w.Keys
		}
		out = append(out, w)
	}
	return out
}

// secondsToMillis reads epoch seconds, integer or decimal, exactly.
func secondsToMillis(t testing.TB, s string) int64 {
	t.Helper()
	whole, frac, _ := strings.Cut(s, ".")
	frac = (frac + "000")[:3]
	sec, err := strconv.ParseInt(whole, 10, 64)
	require.NoError(t, err)
	ms, err := strconv.ParseInt(frac, 10, 64)
	require.NoError(t, err)
	return sec*1000 + ms
}

// lakeRow is one Parquet row by column name; top-level scalar columns
// only (strings, int64, booleans; nil for null).
type lakeRow map[string]any

// readParquet reads every row of a Parquet file.
func readParquet(t testing.TB, body []byte) []lakeRow {
	t.Helper()
	f, err := parquet.OpenFile(bytes.NewReader(body), int64(len(body)))
	require.NoError(t, err)
	leaves := f.Schema().Columns()
	var out []lakeRow
	for _, rg := range f.RowGroups() {
		rows := rg.Rows()
		buf := make([]parquet.Row, 64)
		for {
			n, err := rows.ReadRows(buf)
			for _, pr := range buf[:n] {
				row := lakeRow{}
				for _, v := range pr {
					path := leaves[v.Column()]
					if len(path) != 1 {
						continue // lists
					}
					switch {
					case v.IsNull():
						row[path[0]] = nil
					case v.Kind() == parquet.ByteArray:
						row[path[0]] = string(v.ByteArray())
					case v.Kind() == parquet.Int64:
						row[path[0]] = v.Int64()
					case v.Kind() == parquet.Boolean:
						row[path[0]] = v.Boolean()
					}
				}
				out = append(out, row)
			}
			if err == io.EOF {
				break
			}
			require.NoError(t, err)
		}
		require.NoError(t, rows.Close())
	}
	return out
}

// lakeTable reads every row of a lake table, keyed by _sequence_number
// (each must be there once), with the files it came from: the files its
// partitions' manifests list, which must be every Parquet file the table
// folder holds (a file written and not listed would be a row no query
// sees).
func lakeTable(t testing.TB, store sink.Store, table string) (map[string]lakeRow, []string) {
	t.Helper()
	ctx := context.Background()
	parts, err := manifest.Scan(ctx, store, table)
	require.NoError(t, err)
	var written, keys []string
	for _, p := range parts {
		for _, o := range p.Files {
			written = append(written, o.Key)
		}
		require.Empty(t, p.Compacted)
		l, err := manifest.Read(ctx, store, table, p.Partition)
		require.NoError(t, err)
		keys = append(keys, l.Keys...)
	}
	require.ElementsMatch(t, written, keys, "the manifests list every file written")
	rows := map[string]lakeRow{}
	for _, key := range keys {
		body, err := store.Get(ctx, key)
		require.NoError(t, err)
		for _, r := range readParquet(t, body) {
			seq := r["_sequence_number"].(string)
			_, dup := rows[seq]
			require.False(t, dup, "sequence %s is in the lake twice", seq)
			rows[seq] = r
		}
	}
	return rows, keys
}

// snake is the column name of a plain camelCase attribute name, or ""
// for any other name (whose column these tests do not predict).
func snake(name string) string {
	var b strings.Builder
	for i, c := range name {
		switch {
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9' && i > 0:
			b.WriteRune(c)
		case c >= 'A' && c <= 'Z' && i > 0:
			b.WriteByte('_')
			b.WriteRune(unicode.ToLower(c))
		default:
			return ""
		}
	}
	return b.String()
}

// requireRowsMatch checks that the lake rows of a table are the event's
// records of that table, one for one: event name, padded sequence, event
// time, the keys, and the plain string and integer attributes of the
// image (including sender.userId). It returns how many records it
// matched; the caller checks that the lake holds no others.
func requireRowsMatch(t testing.TB, want []wantRecord, table string, got map[string]lakeRow) int {
	t.Helper()
	matched, attrs := 0, 0
	for _, w := range want {
		if w.Table != table {
			continue
		}
		row, ok := got[w.padded()]
		require.True(t, ok, "record %d (%s) is not in the lake", w.Index, w.Sequence)
		matched++
		require.Equal(t, w.EventName, row["_event_name"], "record %d", w.Index)
		require.Equal(t, w.EventMS, row["_event_time"], "record %d", w.Index)
		for k, v := range w.Keys {
			s, ok := v.(map[string]any)["S"]
			if ok && snake(k) != "" {
				require.Equal(t, s, row[snake(k)], "record %d key %s", w.Index, k)
			}
		}
		for name, v := range w.Image {
			col := snake(name)
			av := v.(map[string]any)
			if m, ok := av["M"].(map[string]any); ok && name == "sender" {
				if u, ok := m["userId"].(map[string]any); ok {
					av, col = u, "sender_user_id"
				}
			}
			cell, ok := row[col]
			if col == "" || !ok {
				continue
			}
			if s, ok := av["S"].(string); ok {
				require.Equal(t, s, cell, "record %d attribute %s", w.Index, name)
				attrs++
			}
			if n, ok := av["N"].(string); ok {
				if i, err := strconv.ParseInt(n, 10, 64); err == nil {
					if c, isInt := cell.(int64); isInt {
						require.Equal(t, i, c, "record %d attribute %s", w.Index, name)
						attrs++
					}
				}
			}
		}
	}
	if matched > 0 {
		require.Greater(t, attrs, matched, "attribute values were compared")
	}
	return matched
}

// readFile reads a repository file.
func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}
