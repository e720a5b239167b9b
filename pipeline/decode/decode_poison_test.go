package decode

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/flatten"
)

// lastMicro is the last microsecond of year 9999.
var lastMicro = time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC).UnixMicro()

// TestEventTimeEdges checks the edges of the accepted range in every
// field the formats carry a time in: the last microsecond of year 9999
// is accepted, the first instant of year 10000 is refused at decoding
// (bad_time), never handed on to become a partition the lake refuses.
func TestEventTimeEdges(t *testing.T) {
	lambda := func(v string) string {
		return streamRecord(nil, map[string]string{"ApproximateCreationDateTime": v})
	}
	kinesis := func(v, precision string) string {
		ddb := map[string]string{"ApproximateCreationDateTime": v}
		if precision != "" {
			ddb["ApproximateCreationDateTimePrecision"] = `"` + precision + `"`
		}
		return kinesisRecord(t, "1", kinesisData(nil, ddb))
	}
	for _, c := range []struct {
		name, record string
		want         int64 // -1: refused
	}{
		{"seconds at year 10000", lambda(year10000Seconds), -1},
		{"seconds as text at year 10000", lambda(`"` + year10000Seconds + `"`), -1},
		{"float seconds at year 10000", lambda(year10000Seconds + ".0"), -1},
		{"exponent at year 10000", lambda("2.534023008E11"), -1},
		{"seconds before year 10000", lambda("253402300799"), lastMicro - 999999},
		{"float seconds before year 10000", lambda("253402300799.999999"), lastMicro},
		{"float seconds below a microsecond before year 10000", lambda("253402300799.9999999"), lastMicro},
		{"RFC 3339 at the end of 9999", lambda(`"9999-12-31T23:59:59.999999Z"`), lastMicro},
		{"RFC 3339 with an offset into year 10000", lambda(`"9999-12-31T23:30:00-01:00"`), -1},
		{"zero", lambda("0"), 0},
		{"1969", lambda(`"1969-12-31T23:59:59Z"`), -1},
		{"negative fraction", lambda("-0.5"), -1},
		{"huge float", lambda("1.5e308"), -1},
		{"NaN text", lambda(`"NaN"`), -1},
		{"infinity text", lambda(`"Infinity"`), -1},
		{"milliseconds at year 10000", kinesis(year10000Millis, ""), -1},
		{"milliseconds before year 10000", kinesis("253402300799999", "MILLISECOND"), lastMicro - 999},
		{"microseconds at year 10000", kinesis(year10000Micros, "MICROSECOND"), -1},
		{"microseconds before year 10000", kinesis("253402300799999999", "MICROSECOND"), lastMicro},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec, rerr := one(t, c.record)
			if c.want < 0 {
				require.NotNil(t, rerr, "refused at decoding")
				require.ErrorIs(t, rerr, ErrBadTime)
				return
			}
			require.Nil(t, rerr)
			require.Equal(t, c.want, rec.EventTimeMicros)
		})
	}

	// Incremental exports: WriteTimestampMicros in each of its spellings.
	for _, v := range []string{year10000Micros, `"` + year10000Micros + `"`, `{"N":"` + year10000Micros + `"}`} {
		line := `{"Metadata":{"WriteTimestampMicros":` + v + `},"Keys":{"id":{"S":"1"}},"NewImage":{"id":{"S":"1"}}}`
		c := decodeReader(t, strings.NewReader(line), "inc.json", FormatIncremental, Options{Table: "t-1"})
		require.NoError(t, c.err)
		require.Len(t, c.errs, 1, v)
		require.ErrorIs(t, c.errs[0], ErrBadTime)
	}
	line := `{"Metadata":{"WriteTimestampMicros":253402300799999999},"Keys":{"id":{"S":"1"}},"NewImage":{"id":{"S":"1"}}}`
	c := decodeReader(t, strings.NewReader(line), "inc.json", FormatIncremental, Options{Table: "t-1"})
	require.Len(t, c.recs, 1)
	require.Equal(t, lastMicro, c.recs[0].EventTimeMicros)

	// A full export's time: from the options, checked like the others.
	_, err := NewDecoder(Options{ExportTime: time.UnixMicro(maxMicros)})
	require.ErrorIs(t, err, ErrBadTime)
	_, err = NewDecoder(Options{ExportTime: time.UnixMicro(-1)})
	require.ErrorIs(t, err, ErrBadTime)
	_, err = NewDecoder(Options{ExportTime: time.UnixMicro(lastMicro)})
	require.NoError(t, err)
}

// TestRepeatedKeys checks that a record naming one of its fields twice is
// set aside, whatever the format and wherever the field is.
func TestRepeatedKeys(t *testing.T) {
	good := streamRecord(nil, nil)
	twice := func(rec, key, value string) string {
		// Adds a second key right after the opening brace of the object
		// that holds key.
		i := strings.Index(rec, `"`+key+`":`)
		require.GreaterOrEqual(t, i, 0, key)
		return rec[:i] + `"` + key + `":` + value + "," + rec[i:]
	}
	ddbAt := strings.Index(good, `"dynamodb":{`) + len(`"dynamodb":{`)
	for _, c := range []struct {
		name, record, path string
	}{
		{"eventName", twice(good, "eventName", `"REMOVE"`), "eventName"},
		{"eventSourceARN", twice(good, "eventSourceARN", `"arn:aws:dynamodb:us-east-1:1:table/other"`), "eventSourceARN"},
		{"dynamodb", twice(good, "dynamodb", `{}`), "dynamodb"},
		{"NewImage", good[:ddbAt] + `"NewImage":{"roomId":{"S":"x"}},` + good[ddbAt:], "dynamodb.NewImage"},
		{"ApproximateCreationDateTime", good[:ddbAt] + `"ApproximateCreationDateTime":1,` + good[ddbAt:], "dynamodb.ApproximateCreationDateTime"},
		{"userIdentity", strings.Replace(good, `"eventName"`, `"userIdentity":{"type":"Service","type":"User"},"eventName"`, 1), "userIdentity.type"},
		{"kinesis", twice(kinesisRecord(t, "1", kinesisData(nil, nil)), "kinesis", `{}`), "kinesis"},
		{"kinesis.data", twice(kinesisRecord(t, "1", kinesisData(nil, nil)), "data", `"e30="`), "kinesis.data"},
		{"inside kinesis.data", kinesisRecord(t, "1", twice(kinesisData(nil, nil), "eventName", `"REMOVE"`)), "kinesis.data.eventName"},
		{"tableName", twice(kinesisData(nil, nil), "tableName", `"other"`), "tableName"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, rerr := one(t, c.record)
			require.NotNil(t, rerr)
			require.ErrorIs(t, rerr, ErrDuplicateKey)
			require.Equal(t, c.path, rerr.Path)
		})
	}

	lines := []struct {
		name, line, path string
		format           Format
	}{
		{"Item", `{"Item":{"id":{"S":"1"}},"Item":{"id":{"S":"2"}}}`, "Item", FormatExport},
		{"Metadata", `{"Metadata":{"WriteTimestampMicros":1},"Metadata":{"WriteTimestampMicros":2},"Keys":{"id":{"S":"1"}}}`, "Metadata", FormatIncremental},
		{"WriteTimestampMicros", `{"Metadata":{"WriteTimestampMicros":1,"WriteTimestampMicros":2},"Keys":{"id":{"S":"1"}}}`, "Metadata.WriteTimestampMicros", FormatIncremental},
		{"NewImage", `{"Metadata":{"WriteTimestampMicros":1},"Keys":{"id":{"S":"1"}},"NewImage":{"id":{"S":"1"}},"NewImage":{"id":{"S":"2"}}}`, "NewImage", FormatIncremental},
		{"Keys", `{"Metadata":{"WriteTimestampMicros":1},"Keys":{"id":{"S":"1"}},"Keys":{"id":{"S":"2"}}}`, "Keys", FormatIncremental},
	}
	for _, c := range lines {
		t.Run(string(c.format)+" "+c.name, func(t *testing.T) {
			got := decodeReader(t, strings.NewReader(c.line+"\n"), "x.json", c.format, Options{Table: "t-1", ExportTime: time.Unix(1775001600, 0)})
			require.NoError(t, got.err)
			require.Len(t, got.errs, 1)
			require.ErrorIs(t, got.errs[0], ErrDuplicateKey)
			require.Equal(t, c.path, got.errs[0].Path)
		})
	}
}

// TestBadEscapes checks that a JSON escape that is not valid UTF-8 (a
// lone surrogate, a bad pair) or not JSON (\q, \u12) is set aside
// wherever it is, rather than stored as its text or as U+FFFD.
func TestBadEscapes(t *testing.T) {
	img := func(s string) map[string]string { return map[string]string{"NewImage": s} }
	for _, c := range []struct {
		name, record, path string
	}{
		{"S value", streamRecord(nil, img(`{"roomId":{"S":"room-1"},"body":{"S":"hi \ud800"}}`)), "dynamodb.NewImage.body.S"},
		{"attribute name", streamRecord(nil, img(`{"roomId":{"S":"room-1"},"b\udc00":{"S":"x"}}`)), "dynamodb.NewImage.b\\udc00"},
		{"SS element", streamRecord(nil, img(`{"roomId":{"S":"room-1"},"tags":{"SS":["a","\ud83d"]}}`)), "dynamodb.NewImage.tags.SS.1"},
		{"map key", streamRecord(nil, img(`{"roomId":{"S":"room-1"},"m":{"M":{"\ud800x":{"S":"1"}}}}`)), "dynamodb.NewImage.m.M.\\ud800x"},
		{"list element", streamRecord(nil, img(`{"roomId":{"S":"room-1"},"l":{"L":[{"S":"ok"},{"S":"\ud800\u0041"}]}}`)), "dynamodb.NewImage.l.L.1.S"},
		{"key value", streamRecord(nil, map[string]string{"Keys": `{"roomId":{"S":"\udfff"}}`}), "dynamodb.Keys.roomId.S"},
		{"old image", streamRecord(map[string]string{"eventName": `"REMOVE"`}, map[string]string{"NewImage": "", "OldImage": `{"roomId":{"S":"\ud800"}}`}), "dynamodb.OldImage.roomId.S"},
		{"eventID", streamRecord(map[string]string{"eventID": `"\ud800"`}, nil), "eventID"},
		{"unknown escape", streamRecord(nil, img(`{"roomId":{"S":"room-1"},"body":{"S":"\q"}}`)), "dynamodb.NewImage.body.S"},
		{"short escape", streamRecord(nil, img(`{"roomId":{"S":"room-1"},"body":{"S":"\u12"}}`)), "dynamodb.NewImage.body.S"},
		{"field the decoder ignores", streamRecord(map[string]string{"awsRegion": `"\ud800"`}, nil), "awsRegion"},
		{"kinesis data", kinesisRecord(t, "1", kinesisData(nil, img(`{"roomId":{"S":"\ud800"}}`))), "kinesis.data.dynamodb.NewImage.roomId.S"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, rerr := one(t, c.record)
			require.NotNil(t, rerr, "set aside")
			require.Equal(t, c.path, rerr.Path)
			require.True(t, errors.Is(rerr, flatten.ErrBadUTF8) || errors.Is(rerr, flatten.ErrBadJSON), "bad_utf8 or bad_json: %v", rerr)
			require.Equal(t, "chat-messages", rerr.Table, "it still names its table")
			require.NotZero(t, rerr.EventTimeMicros, "and its day")
		})
	}
	_, rerr := one(t, streamRecord(nil, img(`{"roomId":{"S":"room-1"},"body":{"S":"\ud800"}}`)))
	require.ErrorIs(t, rerr, flatten.ErrBadUTF8)

	// Good escapes, pairs included, pass and are decoded.
	rec, rerr := one(t, streamRecord(nil, img(`{"roomId":{"S":"room-1"},"body":{"S":"\ud83d\ude00 \u00e9 \\ud800"}}`)))
	require.Nil(t, rerr)
	require.Equal(t, "😀 é \\ud800", attr(t, rec.NewImage, "body").S)

	// Export and incremental lines.
	for _, c := range []struct {
		format Format
		line   string
	}{
		{FormatExport, `{"Item":{"id":{"S":"\ud800"}}}`},
		{FormatIncremental, `{"Metadata":{"WriteTimestampMicros":1},"Keys":{"id":{"S":"1"}},"NewImage":{"id":{"S":"1"},"n\ud800":{"N":"1"}}}`},
	} {
		got := decodeReader(t, strings.NewReader(c.line), "x.json", c.format, Options{Table: "t-1", ExportTime: time.Unix(1775001600, 0)})
		require.Len(t, got.errs, 1, c.format)
		require.ErrorIs(t, got.errs[0], flatten.ErrBadUTF8)
	}
}

// TestEventIDs checks that an eventID is a short string of valid UTF-8.
func TestEventIDs(t *testing.T) {
	_, rerr := one(t, streamRecord(map[string]string{"eventID": `"` + strings.Repeat("e", maxEventIDBytes+1) + `"`}, nil))
	require.ErrorIs(t, rerr, ErrBadRecord)
	require.Equal(t, "eventID", rerr.Path)
	_, rerr = one(t, streamRecord(map[string]string{"eventID": "\"\xff\""}, nil))
	require.ErrorIs(t, rerr, flatten.ErrBadUTF8)
	rec, rerr := one(t, streamRecord(map[string]string{"eventID": `"` + strings.Repeat("e", maxEventIDBytes) + `"`}, nil))
	require.Nil(t, rerr)
	require.Len(t, rec.EventID, maxEventIDBytes)
}

// TestSetAsideKeepsItsDay checks that a record set aside for its table
// name, event name or sequence number still carries its event time, so
// that the quarantine files it under its day rather than 1970-01-01.
func TestSetAsideKeepsItsDay(t *testing.T) {
	day := micros("2026-04-01T00:00:00Z")
	for _, rec := range []string{
		streamRecord(map[string]string{"eventSourceARN": `"arn:aws:dynamodb:us-east-1:1:table/a/b"`}, nil),
		streamRecord(map[string]string{"eventSourceARN": `"arn:aws:dynamodb:us-east-1:1:table/x"`}, nil),
		streamRecord(map[string]string{"eventSourceARN": ""}, nil),
		streamRecord(map[string]string{"eventName": `"UPSERT"`}, nil),
		streamRecord(nil, map[string]string{"SequenceNumber": `"x"`}),
		kinesisRecord(t, "1", kinesisData(map[string]string{"tableName": `"x"`}, nil)),
		kinesisRecord(t, "1", "not json"),
	} {
		_, rerr := one(t, rec)
		require.NotNil(t, rerr)
		require.InDelta(t, day, rerr.EventTimeMicros, 1e6, rerr.Error())
	}
}

// TestExportWithoutItsTime checks that full-export data read without its
// manifest needs a time as well as a table: without one it is an input
// error naming the file, not rows dated 1970-01-01.
func TestExportWithoutItsTime(t *testing.T) {
	line := `{"Item":{"id":{"S":"1"}}}` + "\n"
	c := decodeReader(t, strings.NewReader(line), "part.json", FormatExport, Options{Table: "t-1"})
	require.ErrorIs(t, c.err, ErrNoTime)
	require.Contains(t, c.err.Error(), "part.json")
	require.Empty(t, c.all)
	// Detected as an export, the same.
	c = decodeReader(t, strings.NewReader(line), "part.json", FormatAuto, Options{Table: "t-1"})
	require.ErrorIs(t, c.err, ErrNoTime)

	at := time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)
	c = decodeReader(t, strings.NewReader(line), "part.json", FormatExport, Options{Table: "t-1", ExportTime: at})
	require.NoError(t, c.err)
	require.Len(t, c.recs, 1)
	require.Equal(t, at.UnixMicro(), c.recs[0].EventTimeMicros)
	// Incremental lines carry their own time: a table is enough.
	inc := `{"Metadata":{"WriteTimestampMicros":1775001600000000},"Keys":{"id":{"S":"1"}},"NewImage":{"id":{"S":"1"}}}`
	c = decodeReader(t, strings.NewReader(inc), "inc.json", FormatIncremental, Options{Table: "t-1"})
	require.NoError(t, c.err)
	require.Len(t, c.recs, 1)
}

// TestItemsOverDynamoDBsLimit checks that an image larger than an item can
// be is set aside as too_large, in each image of each format, and that one
// at the limit is not.
func TestItemsOverDynamoDBsLimit(t *testing.T) {
	over := `{"roomId":{"S":"room-1"},"body":{"S":"` + strings.Repeat("x", flatten.MaxItemBytes) + `"}}`
	at := `{"roomId":{"S":"room-1"},"body":{"S":"` + strings.Repeat("x", flatten.MaxItemBytes-len("roomIdroom-1body")) + `"}}`
	for _, c := range []struct {
		name, record, path string
	}{
		{"new image", streamRecord(nil, map[string]string{"NewImage": over}), "dynamodb.NewImage"},
		{"old image", streamRecord(nil, map[string]string{"OldImage": over}), "dynamodb.OldImage"},
		{"keys", streamRecord(nil, map[string]string{"Keys": over}), "dynamodb.Keys"},
		{"kinesis", kinesisRecord(t, "1", kinesisData(nil, map[string]string{"NewImage": over})), "kinesis.data.dynamodb.NewImage"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, rerr := one(t, c.record)
			require.NotNil(t, rerr)
			require.ErrorIs(t, rerr, ErrItemTooLarge)
			require.Equal(t, c.path, rerr.Path)
			require.NotZero(t, rerr.EventTimeMicros)
		})
	}
	rec, rerr := one(t, streamRecord(nil, map[string]string{"NewImage": at}))
	require.Nil(t, rerr, "an item of exactly 400 KB is one")
	require.Len(t, attr(t, rec.NewImage, "body").S, flatten.MaxItemBytes-len("roomIdroom-1body"))

	got := decodeReader(t, strings.NewReader(`{"Item":`+over+"}\n"), "x.json", FormatExport, Options{Table: "t-1", ExportTime: time.Unix(1775001600, 0)})
	require.Len(t, got.errs, 1)
	require.ErrorIs(t, got.errs[0], ErrItemTooLarge)
}
