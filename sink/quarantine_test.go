package sink_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/sink"
)

func quarantineRecords() []sink.QuarantineRecord {
	return []sink.QuarantineRecord{
		{Table: "chat_messages", EventTime: apr1 + 5, Reason: "N is not a number", Source: "/data/a.jsonl", Index: 3,
			Path: "price", ErrorKind: "bad_value", Raw: []byte(`{"dynamodb":{"NewImage":{"price":{"N":"12x"}}},"html":"<a&b>"}`)},
		{Table: "", Reason: "no table name", Source: "event", Index: 0, ErrorKind: "bad_table",
			Raw: []byte("{\"eventSourceARN\":\"\"}\n")},
		{Table: "Not A Table!", EventTime: apr1 + 86_400_000, Reason: "table name is not valid", Source: "event", Index: 7,
			ErrorKind: "bad_table", Raw: []byte{'{', 0xff, 0xfe, '}'}},
		{Table: "chat_messages", EventTime: apr1 + 10, Reason: "not valid JSON", Source: "/data/a.jsonl", Index: 9,
			ErrorKind: "bad_json", Raw: []byte("{\"unterminated\": \"ü")},
		{Table: "chat_messages", EventTime: apr1 + 11, Reason: "bad number", Source: "/data/a.jsonl", Index: 10,
			ErrorKind: "bad_number", Raw: []byte(`{"Item":{"phone":{"S":"0123abcd"}}}`), Redacted: "masked", RawSize: 40},
	}
}

// TestQuarantineLineWithheld checks that a withheld record keeps no raw
// field at all, and says what it was.
func TestQuarantineLineWithheld(t *testing.T) {
	t.Parallel()
	line := sink.AppendQuarantineLine(nil, sink.QuarantineRecord{Reason: "r", Source: "s", Index: 1,
		Raw: []byte("secret"), Redacted: "withheld", RawSize: 6})
	require.Equal(t, `{"reason":"r","source":"s","index":1,"redacted":"withheld","raw_size":6}`+"\n", string(line))
}

func TestQuarantineLinesGolden(t *testing.T) {
	t.Parallel()
	var b []byte
	for _, r := range quarantineRecords() {
		b = sink.AppendQuarantineLine(b, r)
	}
	golden(t, "quarantine.golden.jsonl", string(b))
}

func TestQuarantineLineKeepsRawBytes(t *testing.T) {
	t.Parallel()
	for _, r := range quarantineRecords() {
		line := sink.AppendQuarantineLine(nil, r)
		require.Equal(t, 1, bytes.Count(line, []byte("\n")), "one line")
		var got map[string]any
		require.NoError(t, json.Unmarshal(line, &got))
		require.Equal(t, r.Reason, got["reason"])
		require.Equal(t, r.Source, got["source"])
		require.EqualValues(t, r.Index, got["index"])
		if raw, ok := got["raw"]; ok {
			require.Equal(t, string(r.Raw), raw)
			require.NotContains(t, got, "raw_base64")
		} else {
			dec, err := base64.StdEncoding.DecodeString(got["raw_base64"].(string))
			require.NoError(t, err)
			require.Equal(t, r.Raw, dec)
		}
	}
}

func TestQuarantineWrite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newLake(t)
	q := sink.NewQuarantine(st)
	recs := quarantineRecords()
	files, err := q.Write(ctx, "batch-1", recs)
	require.NoError(t, err)
	var keys []string
	rows := 0
	for _, f := range files {
		keys = append(keys, f.Key)
		rows += f.Rows
		body, err := st.Get(ctx, f.Key)
		require.NoError(t, err)
		require.EqualValues(t, len(body), f.Bytes)
		n := 0
		for sc := bufio.NewScanner(bytes.NewReader(body)); sc.Scan(); n++ {
			require.True(t, json.Valid(sc.Bytes()))
		}
		require.Equal(t, f.Rows, n)
	}
	require.Equal(t, []string{
		"_errors/_unknown/dt=1970-01-01/batch-1.jsonl",
		"_errors/_unknown/dt=2026-04-02/batch-1.jsonl",
		"_errors/chat_messages/dt=2026-04-01/batch-1.jsonl",
	}, keys)
	require.Equal(t, len(recs), rows)
	require.Equal(t, 3, files[2].Rows, "records of one table and day share a file, in input order")

	again, err := q.Write(ctx, "batch-1", recs)
	require.NoError(t, err)
	require.Equal(t, files, again)
	objs, err := st.List(ctx, sink.ErrorsDir+"/")
	require.NoError(t, err)
	require.Len(t, objs, 3, "a rerun replaces")

	_, err = q.Write(ctx, "../x", recs)
	require.ErrorIs(t, err, sink.ErrBadName)
}

// TestQuarantineBoundsEachLine checks that a record of many MiB is kept
// as its first MaxQuarantineRawBytes, cut at a character boundary, with
// its whole length and hash, and that a time no partition can name files
// the record under 1970-01-01 instead of failing the write.
func TestQuarantineBoundsEachLine(t *testing.T) {
	t.Parallel()
	raw := []byte(`{"Item":{"body":{"S":"` + strings.Repeat("가", sink.MaxQuarantineRawBytes) + `"}}}`)
	line := sink.AppendQuarantineLine(nil, sink.QuarantineRecord{Reason: "too large", Source: "big.jsonl", Index: 1, Raw: raw})
	require.Less(t, len(line), sink.MaxQuarantineRawBytes+1024)
	var got struct {
		Raw          string `json:"raw"`
		RawTruncated bool   `json:"raw_truncated"`
		RawSize      int    `json:"raw_size"`
		RawSHA256    string `json:"raw_sha256"`
	}
	require.NoError(t, json.Unmarshal(line, &got))
	require.True(t, got.RawTruncated)
	require.Equal(t, len(raw), got.RawSize)
	sum := sha256.Sum256(raw)
	require.Equal(t, hex.EncodeToString(sum[:]), got.RawSHA256)
	require.True(t, utf8.ValidString(got.Raw), "cut between characters")
	require.True(t, strings.HasPrefix(string(raw), got.Raw))
	require.Greater(t, len(got.Raw), sink.MaxQuarantineRawBytes-4)

	small := sink.AppendQuarantineLine(nil, sink.QuarantineRecord{Reason: "r", Raw: []byte("{}")})
	require.NotContains(t, string(small), "raw_truncated")

	st := newLake(t)
	files, err := sink.NewQuarantine(st).Write(context.Background(), "b", []sink.QuarantineRecord{
		{Table: "t", EventTime: 253402300800000, Reason: "year 10000", Raw: []byte("{}")},
		{Table: "t", EventTime: -62167219200001, Reason: "before year 0", Raw: []byte("{}")},
	})
	require.NoError(t, err)
	require.Len(t, files, 1)
	require.Equal(t, "_errors/t/dt=1970-01-01/b.jsonl", files[0].Key)
	require.Equal(t, 2, files[0].Rows)
}
