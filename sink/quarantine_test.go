package sink_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"testing"

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
