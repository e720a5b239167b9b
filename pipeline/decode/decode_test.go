package decode

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ddblake/ddblake/flatten"
	"github.com/stretchr/testify/require"
)

// collected is what a decoding passed to its callback, and returned.
type collected struct {
	recs []*ChangeRecord
	errs []*RecordError
	all  []any // records and errors in order
	err  error
}

func (c *collected) fn(rec *ChangeRecord, rerr *RecordError) error {
	if (rec == nil) == (rerr == nil) {
		return fmt.Errorf("callback got rec=%v rerr=%v: want exactly one", rec, rerr)
	}
	if rec != nil {
		c.recs = append(c.recs, rec)
		c.all = append(c.all, rec)
	} else {
		c.errs = append(c.errs, rerr)
		c.all = append(c.all, rerr)
	}
	return nil
}

// decodeEvent decodes a Lambda payload, having checked that the fast
// path and the parser path read it alike.
func decodeEvent(t *testing.T, payload []byte) *collected {
	t.Helper()
	fast, parser := bothWays(t, Options{}, func(d *Decoder, fn RecordFunc) error { return d.DecodeEvent(payload, "event", fn) })
	requireSameRows(t, fast, parser)
	var c collected
	c.err = Event(payload, "event", c.fn)
	return &c
}

// decodeReader decodes one input, having checked that the fast path and
// the parser path read it alike when r can be read twice.
func decodeReader(t *testing.T, r io.Reader, name string, format Format, opts Options) *collected {
	t.Helper()
	if b := readAllSeeker(r); b != nil {
		fast, parser := bothWays(t, opts, func(d *Decoder, fn RecordFunc) error {
			return d.Decode(context.Background(), bytes.NewReader(b), name, format, fn)
		})
		requireSameRows(t, fast, parser)
	}
	d, err := NewDecoder(opts)
	require.NoError(t, err)
	var c collected
	c.err = d.Decode(context.Background(), r, name, format, c.fn)
	return &c
}

func readFixture(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(inputsDir, rel))
	require.NoError(t, err)
	return b
}

// attr finds a top-level attribute, or a nested one by a dotted path.
func attr(t *testing.T, item flatten.Item, path string) flatten.Value {
	t.Helper()
	attrs := item.Attrs()
	segs := strings.Split(path, ".")
	for i, seg := range segs {
		found := false
		for _, a := range attrs {
			if a.Name == seg {
				if i == len(segs)-1 {
					return a.Value
				}
				attrs, found = a.Value.M, true
				break
			}
		}
		require.True(t, found, "no attribute %s", path)
	}
	t.Fatalf("no attribute %s", path)
	return flatten.Value{}
}

func micros(rfc3339 string) int64 {
	t, err := time.Parse(time.RFC3339Nano, rfc3339)
	if err != nil {
		panic(err)
	}
	return t.UnixMicro()
}

func TestDecodeEventLambda(t *testing.T) {
	payload := readFixture(t, "lambda/chat_stream.json")
	c := decodeEvent(t, payload)
	require.NoError(t, c.err)
	require.Empty(t, c.errs)
	require.Len(t, c.recs, 5)

	// Raw is exactly each Records[] element, in order.
	var doc struct{ Records []json.RawMessage }
	require.NoError(t, json.Unmarshal(payload, &doc))
	for i, rec := range c.recs {
		require.Equal(t, i, rec.Index)
		require.Equal(t, "event", rec.Source)
		require.Equal(t, string(doc.Records[i]), string(rec.Raw), "record %d raw", i)
		require.Equal(t, "chat-messages", rec.Table)
	}

	want := []struct {
		name, id, seq, time string
		ttl                 bool
		hasNew, hasOld      bool
	}{
		{EventInsert, "c81e728d9d4c2f636f067f89cc14862c", "111200000000003409224", "2026-04-01T00:00:00Z", false, true, false},
		{EventModify, "eccbc87e4b5ce2fe28308fd9f2a7baf3", "111300000000003409225312", "2026-04-01T00:00:00.5Z", false, true, true},
		{EventInsert, "a87ff679a2f3e71d9181a67b7542122c", "1234500000000000000000000000000000000001", "2026-04-01T00:00:01.123456Z", false, true, false},
		{EventRemove, "e4da3b7fbbce2345d7772b0674a318d5", "111400000000003409226001", "2026-04-01T00:00:02Z", true, false, true},
		{EventRemove, "1679091c5a880faf6fb5e6087eb1b2dc", "111500000000003409226777", "2026-04-01T00:00:03Z", false, false, true},
	}
	for i, w := range want {
		rec := c.recs[i]
		require.Equal(t, w.name, rec.EventName, "record %d", i)
		require.Equal(t, w.id, rec.EventID)
		require.Equal(t, w.seq, rec.Sequence)
		require.Equal(t, micros(w.time), rec.EventTimeMicros, "record %d time", i)
		require.Equal(t, w.ttl, rec.TTLDelete, "record %d ttl", i)
		require.False(t, rec.Keys.IsZero())
		require.Equal(t, w.hasNew, !rec.NewImage.IsZero())
		require.Equal(t, w.hasOld, !rec.OldImage.IsZero())
	}
	// Nested values come through flatten's parser intact.
	first := c.recs[0].NewImage
	require.Equal(t, "안녕하세요! 오늘 회의는 3시에 시작합니다 🙂", attr(t, first, "body").S)
	require.Equal(t, "김민지", attr(t, first, "sender.profile.displayName").S)
	require.Equal(t, flatten.L, attr(t, first, "attachments").Kind)
	require.Len(t, attr(t, first, "attachments").L, 2)
	readBy := attr(t, c.recs[1].NewImage, "readBy")
	require.Equal(t, flatten.SS, readBy.Kind)
	require.Len(t, readBy.L, 3)
	require.Equal(t, flatten.NULL, attr(t, first, "editedAt").Kind)
}

// one decodes a single-record event and returns its record or error.
func one(t *testing.T, rec string) (*ChangeRecord, *RecordError) {
	t.Helper()
	c := decodeEvent(t, event(rec))
	require.NoError(t, c.err)
	require.Len(t, c.all, 1)
	if len(c.recs) == 1 {
		return c.recs[0], nil
	}
	return nil, c.errs[0]
}

func TestEventTime(t *testing.T) {
	base := micros("2026-04-01T00:00:00Z")
	cases := []struct {
		name, value string
		want        int64
		err         error
	}{
		{"integer seconds", `1775001600`, base, nil},
		{"float seconds", `1775001600.5`, base + 500000, nil},
		{"float with zero fraction", `1775001600.0`, base, nil},
		{"microseconds kept", `1775001600.123456`, base + 123456, nil},
		{"below a microsecond dropped", `1775001600.1234567`, base + 123456, nil},
		{"exponent", `1.7750016005E9`, base + 500000, nil},
		{"string of digits", `"1775001600"`, base, nil},
		{"RFC 3339 with offset", `"2026-04-01T09:00:00+09:00"`, base, nil},
		{"RFC 3339 fraction", `"2026-04-01T00:00:00.25Z"`, base + 250000, nil},
		{"negative", `-1`, 0, ErrBadTime},
		{"words", `"yesterday"`, 0, ErrBadTime},
		{"boolean", `true`, 0, ErrBadTime},
		{"null", `null`, 0, ErrBadTime},
		{"past year 9999", `1e30`, 0, ErrBadTime},
		{"missing", ``, 0, ErrBadTime},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec, rerr := one(t, streamRecord(nil, map[string]string{"ApproximateCreationDateTime": c.value}))
			if c.err != nil {
				require.NotNil(t, rerr)
				require.ErrorIs(t, rerr, c.err)
				require.Equal(t, "dynamodb.ApproximateCreationDateTime", rerr.Path)
				return
			}
			require.Nil(t, rerr)
			require.Equal(t, c.want, rec.EventTimeMicros, "got %s", time.UnixMicro(rec.EventTimeMicros).UTC())
		})
	}
}

func TestSequenceNumber(t *testing.T) {
	cases := []struct {
		name, value string
		ok          bool
	}{
		{"21 digits", `"111200000000003409224"`, true},
		{"40 digits", `"` + strings.Repeat("9", 40) + `"`, true},
		{"one digit", `"7"`, true},
		{"41 digits", `"` + strings.Repeat("1", 41) + `"`, false},
		{"letters", `"1112000x"`, false},
		{"sign", `"-1112"`, false},
		{"empty", `""`, false},
		{"number", `111200000000003409224`, false},
		{"missing", ``, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec, rerr := one(t, streamRecord(nil, map[string]string{"SequenceNumber": c.value}))
			if !c.ok {
				require.NotNil(t, rerr)
				require.ErrorIs(t, rerr, ErrBadSequence)
				require.Equal(t, "dynamodb.SequenceNumber", rerr.Path)
				return
			}
			require.Nil(t, rerr)
			require.Equal(t, strings.Trim(c.value, `"`), rec.Sequence, "kept exactly as given")
		})
	}
}

func TestSequencePad(t *testing.T) {
	require.Equal(t, "0000000000000000000111200000000003409224", SequencePad("111200000000003409224"))
	require.Len(t, SequencePad("111200000000003409224"), 40)
	forty := strings.Repeat("9", 40)
	require.Equal(t, forty, SequencePad(forty))
	kinesis := "49590338271490256608559692538361571095921575989136588898"
	require.Equal(t, kinesis, SequencePad(kinesis))
	require.Equal(t, "", SequencePad(""))

	// Padded sequence numbers sort as text the way they sort as numbers.
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 2000; i++ {
		a := randomDigits(rng, 21+rng.Intn(20))
		b := randomDigits(rng, 21+rng.Intn(20))
		na, _ := new(big.Int).SetString(a, 10)
		nb, _ := new(big.Int).SetString(b, 10)
		require.Equal(t, na.Cmp(nb), strings.Compare(SequencePad(a), SequencePad(b)), "%s vs %s", a, b)
	}
}

func randomDigits(rng *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + rng.Intn(10))
	}
	if b[0] == '0' {
		b[0] = '1'
	}
	return string(b)
}

func TestTableNames(t *testing.T) {
	valid := []string{"chat-messages", "abc", "My_Table.v2", strings.Repeat("t", 255)}
	invalid := []string{"", "ab", "../../etc", "a/b", "chat messages", "채팅메시지", strings.Repeat("t", 256), "a\x00b"}
	for _, n := range valid {
		require.True(t, ValidTableName(n), n)
	}
	for _, n := range invalid {
		require.False(t, ValidTableName(n), n)
	}

	arns := []struct {
		arn, table string
	}{
		{"arn:aws:dynamodb:ap-northeast-2:123456789012:table/chat-messages/stream/2026-03-01T00:00:00.000", "chat-messages"},
		{"arn:aws-cn:dynamodb:cn-north-1:123456789012:table/T_1.v2/stream/x", "T_1.v2"},
		{"arn:aws:dynamodb:us-east-1:123456789012:table/rooms", "rooms"},
		{"arn:aws:dynamodb:us-east-1:123456789012:table/../../etc/stream/x", ""},
		{"arn:aws:dynamodb:us-east-1:123456789012:table/a b/stream/x", ""},
		{"arn:aws:kinesis:us-east-1:123456789012:stream/chat-cdc", ""},
		{"table/chat-messages/stream/x", ""},
		{"", ""},
	}
	for _, a := range arns {
		rec, rerr := one(t, streamRecord(map[string]string{"eventSourceARN": fmt.Sprintf("%q", a.arn)}, nil))
		if a.table == "" {
			require.NotNil(t, rerr, a.arn)
			require.ErrorIs(t, rerr, ErrBadTable)
			require.Equal(t, "eventSourceARN", rerr.Path)
			require.Empty(t, rerr.Table, "an invalid name is never handed on")
			continue
		}
		require.Nil(t, rerr, a.arn)
		require.Equal(t, a.table, rec.Table)
	}

	// Kinesis records name their table in tableName.
	rec, rerr := one(t, kinesisRecord(t, "1", kinesisData(map[string]string{"tableName": `"../../etc"`}, nil)))
	require.Nil(t, rec)
	require.ErrorIs(t, rerr, ErrBadTable)
	require.Equal(t, "kinesis.data.tableName", rerr.Path)
	require.Contains(t, rerr.Error(), `"../../etc"`)

	// A table given in the options names records that carry none.
	d, err := NewDecoder(Options{Table: "chat-users"})
	require.NoError(t, err)
	var c collected
	require.NoError(t, d.DecodeEvent(event(streamRecord(map[string]string{"eventSourceARN": ""}, nil)), "event", c.fn))
	require.Len(t, c.recs, 1)
	require.Equal(t, "chat-users", c.recs[0].Table)
	_, err = NewDecoder(Options{Table: "../../etc"})
	require.ErrorIs(t, err, ErrBadTable)
}

func TestTTLDelete(t *testing.T) {
	service := `{"type":"Service","principalId":"dynamodb.amazonaws.com"}`
	cases := []struct {
		name, event, identity string
		want                  bool
	}{
		{"TTL expiry", "REMOVE", service, true},
		{"user delete", "REMOVE", "", false},
		{"other service", "REMOVE", `{"type":"Service","principalId":"events.amazonaws.com"}`, false},
		{"user identity", "REMOVE", `{"type":"User","principalId":"dynamodb.amazonaws.com"}`, false},
		{"null identity", "REMOVE", `null`, false},
		{"not a remove", "MODIFY", service, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec, rerr := one(t, streamRecord(map[string]string{"eventName": fmt.Sprintf("%q", c.event), "userIdentity": c.identity},
				map[string]string{"NewImage": "", "OldImage": `{"roomId":{"S":"room-1"},"sk":{"S":"MSG#0001"}}`}))
			require.Nil(t, rerr)
			require.Equal(t, c.want, rec.TTLDelete)
		})
	}
}

func TestStreamViewTypes(t *testing.T) {
	img := `{"roomId":{"S":"room-1"},"sk":{"S":"MSG#0001"},"n":{"N":"1"}}`
	cases := []struct {
		view              string
		keys, newImg, old string
		wantNew, wantOld  bool
		wantErr           error
	}{
		{"KEYS_ONLY", `{"roomId":{"S":"room-1"}}`, "", "", false, false, nil},
		{"NEW_IMAGE", `{"roomId":{"S":"room-1"}}`, img, "", true, false, nil},
		{"OLD_IMAGE", `{"roomId":{"S":"room-1"}}`, "", img, false, true, nil},
		{"NEW_AND_OLD_IMAGES", `{"roomId":{"S":"room-1"}}`, img, img, true, true, nil},
		{"NEW_IMAGE", "", img, "", true, false, nil},
		{"NEW_IMAGE", `null`, `null`, "", false, false, ErrBadRecord},
		{"KEYS_ONLY", "", "", "", false, false, ErrBadRecord},
	}
	for _, c := range cases {
		t.Run(c.view, func(t *testing.T) {
			rec, rerr := one(t, streamRecord(nil, map[string]string{"StreamViewType": fmt.Sprintf("%q", c.view), "Keys": c.keys, "NewImage": c.newImg, "OldImage": c.old}))
			if c.wantErr != nil {
				require.ErrorIs(t, rerr, c.wantErr)
				return
			}
			require.Nil(t, rerr)
			require.Equal(t, c.keys != "", !rec.Keys.IsZero())
			require.Equal(t, c.wantNew, !rec.NewImage.IsZero())
			require.Equal(t, c.wantOld, !rec.OldImage.IsZero())
		})
	}
}

func TestKinesis(t *testing.T) {
	base := micros("2026-04-01T00:00:00Z")
	seq := "49590338271490256608559692538361571095921575989136588898"
	cases := []struct {
		name     string
		ddb      map[string]string
		want     int64
		wantErr  error
		wantPath string
	}{
		{"milliseconds", map[string]string{"ApproximateCreationDateTimePrecision": `"MILLISECOND"`, "ApproximateCreationDateTime": `1775001600123`}, base + 123000, nil, ""},
		{"no precision means milliseconds", map[string]string{"ApproximateCreationDateTime": `1775001600123`}, base + 123000, nil, ""},
		{"microseconds", map[string]string{"ApproximateCreationDateTimePrecision": `"MICROSECOND"`, "ApproximateCreationDateTime": `1775001600123456`}, base + 123456, nil, ""},
		{"fractional milliseconds", map[string]string{"ApproximateCreationDateTime": `1775001600123.5`}, base + 123500, nil, ""},
		{"unknown precision", map[string]string{"ApproximateCreationDateTimePrecision": `"NANOSECOND"`}, 0, ErrBadTime, "kinesis.data.dynamodb.ApproximateCreationDateTimePrecision"},
		{"bad image", map[string]string{"NewImage": `{"n":{"N":"x"}}`}, 0, flatten.ErrBadNumber, "kinesis.data.dynamodb.NewImage.n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data := kinesisData(map[string]string{"eventID": `"0b1e5a7c"`}, c.ddb)
			raw := kinesisRecord(t, seq, data)
			c2 := decodeEvent(t, event(raw))
			require.NoError(t, c2.err)
			require.Len(t, c2.all, 1)
			if c.wantErr != nil {
				require.Len(t, c2.errs, 1)
				require.ErrorIs(t, c2.errs[0], c.wantErr)
				require.Equal(t, c.wantPath, c2.errs[0].Path)
				require.Equal(t, seq, c2.errs[0].Sequence, "the sequence is known for set-aside records")
				require.Equal(t, raw, string(c2.errs[0].Raw))
				return
			}
			rec := c2.recs[0]
			require.Equal(t, c.want, rec.EventTimeMicros)
			require.Equal(t, seq, rec.Sequence, "the Kinesis sequence number")
			require.Equal(t, seq, SequencePad(rec.Sequence))
			require.Equal(t, "0b1e5a7c", rec.EventID, "the eventID inside data")
			require.Equal(t, "chat-messages", rec.Table)
			require.Equal(t, raw, string(rec.Raw), "Raw is the Kinesis record, data still encoded")
		})
	}

	bad := []struct {
		name, raw string
		err       error
		path      string
	}{
		{"data not base64", strings.Replace(kinesisRecord(t, seq, kinesisData(nil, nil)), `"data":"`, `"data":"*`, 1), ErrBadRecord, "kinesis.data"},
		{"data not JSON", kinesisRecord(t, seq, "not json"), ErrBadRecord, "kinesis.data"},
		{"no sequence", kinesisRecord(t, "", kinesisData(nil, nil)), ErrBadSequence, "kinesis.sequenceNumber"},
		{"sequence too long", kinesisRecord(t, strings.Repeat("4", 129), kinesisData(nil, nil)), ErrBadSequence, "kinesis.sequenceNumber"},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			_, rerr := one(t, c.raw)
			require.NotNil(t, rerr)
			require.ErrorIs(t, rerr, c.err)
			require.Equal(t, c.path, rerr.Path)
		})
	}

	// An explicit format refuses the other kind of record.
	mixed := event(streamRecord(nil, nil), kinesisRecord(t, seq, kinesisData(nil, nil)))
	c := decodeReader(t, bytes.NewReader(mixed), "mixed.json", FormatKinesis, Options{})
	require.NoError(t, c.err)
	require.Len(t, c.errs, 1)
	require.Equal(t, 0, c.errs[0].Index)
	require.Len(t, c.recs, 1)
	c = decodeReader(t, bytes.NewReader(mixed), "mixed.json", FormatLambda, Options{})
	require.Len(t, c.errs, 1)
	require.Equal(t, 1, c.errs[0].Index)
	// DecodeEvent takes both, and so does a detected format.
	c = decodeEvent(t, mixed)
	require.Len(t, c.recs, 2)
	c = decodeReader(t, bytes.NewReader(mixed), "mixed.json", FormatAuto, Options{})
	require.Len(t, c.recs, 2)
}

func TestRecordErrors(t *testing.T) {
	payload := readFixture(t, "lambda/bad_records.json")
	c := decodeEvent(t, payload)
	require.NoError(t, c.err, "bad records do not stop the batch")
	require.Len(t, c.all, 12)
	var doc struct{ Records []json.RawMessage }
	require.NoError(t, json.Unmarshal(payload, &doc))

	want := map[int]struct {
		err  error
		path string
	}{
		1:  {flatten.ErrUnknownType, "dynamodb.NewImage.reaction"},
		2:  {flatten.ErrMultipleTypes, "dynamodb.NewImage.pinned"},
		3:  {flatten.ErrBadNumber, "dynamodb.NewImage.sender.profile.age"},
		4:  {flatten.ErrNumberRange, "dynamodb.NewImage.balance"},
		5:  {flatten.ErrBadBase64, "dynamodb.NewImage.attachments.0.thumb"},
		6:  {flatten.ErrTooDeep, "dynamodb.NewImage.thread" + strings.Repeat(".n", 32)},
		7:  {ErrBadTable, "eventSourceARN"},
		8:  {ErrBadSequence, "dynamodb.SequenceNumber"},
		9:  {ErrBadTime, "dynamodb.ApproximateCreationDateTime"},
		10: {ErrBadEventName, "eventName"},
	}
	good := 0
	for i, x := range c.all {
		w, bad := want[i]
		if !bad {
			rec, ok := x.(*ChangeRecord)
			require.True(t, ok, "record %d should be good: %v", i, x)
			require.Equal(t, i, rec.Index)
			good++
			continue
		}
		rerr, ok := x.(*RecordError)
		require.True(t, ok, "record %d should be an error", i)
		require.ErrorIs(t, rerr, w.err, "record %d", i)
		require.Equal(t, w.path, rerr.Path, "record %d", i)
		require.Equal(t, i, rerr.Index)
		require.Equal(t, i+2, rerr.Line, "one record per line after the first")
		require.Equal(t, string(doc.Records[i]), string(rerr.Raw), "the raw record, for the quarantine")
		msg := rerr.Error()
		require.Contains(t, msg, fmt.Sprintf("event: line %d: record %d", i+2, i))
		require.Contains(t, msg, w.path)
		if errors.Is(w.err, ErrBadTable) {
			require.Empty(t, rerr.Table)
		} else {
			require.Equal(t, "chat-messages", rerr.Table, "known table for the quarantine")
		}
		var ae *flatten.AttrError
		if strings.HasPrefix(w.path, "dynamodb.NewImage") {
			require.ErrorAs(t, rerr, &ae, "attribute errors keep flatten's type")
		}
	}
	require.Equal(t, 2, good)
}

func TestInputErrors(t *testing.T) {
	good := streamRecord(nil, nil)
	cases := []struct {
		name     string
		payload  string
		records  int
		err      error
		index    int
		contains string
	}{
		{"empty", "", 0, ErrEmpty, -1, "event: empty input"},
		{"white space", " \n\t ", 0, ErrEmpty, -1, "empty input"},
		{"array", `[` + good + `]`, 0, ErrBadDocument, 0, "want a {\"Records\":[...]} document"},
		{"no Records", `{"records":[` + good + `]}`, 0, ErrBadDocument, 0, "no \"Records\" array"},
		{"Records not an array", `{"Records":{}}`, 0, ErrBadDocument, 0, "want '['"},
		{"trailing bytes", `{"Records":[` + good + `]} x`, 1, ErrBadDocument, 1, "after the end"},
		{"cut after a record", `{"Records":[` + good + `,`, 1, ErrTruncated, 1, "record 1"},
		{"cut inside a record", `{"Records":[` + good + `,` + good[:40], 1, ErrTruncated, 1, "truncated JSON"},
		{"cut inside a string", `{"Records":[` + good + `,{"eventID":"abc`, 1, ErrTruncated, 1, ""},
		{"missing comma", `{"Records":[` + good + good + `]}`, 1, ErrBadDocument, 1, "want ','"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			col := decodeEvent(t, []byte(c.payload))
			require.Len(t, col.recs, c.records, "records before the break are delivered")
			var ie *InputError
			require.ErrorAs(t, col.err, &ie)
			require.ErrorIs(t, col.err, c.err)
			require.Equal(t, "event", ie.Source)
			require.Equal(t, c.index, ie.Index)
			require.Contains(t, col.err.Error(), c.contains)
		})
	}

	// A record that is not an object is a record error; the rest go on.
	col := decodeEvent(t, event(`1`, `"x"`, `{"eventName":`+"\n"+`"INSERT"}`, good))
	require.NoError(t, col.err)
	require.Len(t, col.errs, 3)
	require.Len(t, col.recs, 1)
	require.Equal(t, 3, col.recs[0].Index)
	require.ErrorIs(t, col.errs[0], ErrBadRecord)

	// The truncated fixture: three records, then the break at record 3.
	payload := readFixture(t, "lambda/truncated.json")
	col = decodeEvent(t, payload)
	require.Len(t, col.recs, 3)
	var ie *InputError
	require.ErrorAs(t, col.err, &ie)
	require.ErrorIs(t, col.err, ErrTruncated)
	require.Equal(t, 3, ie.Index)
	require.Equal(t, bytes.Count(payload, []byte("\n"))+1, ie.Line)
	require.Equal(t, int64(len(payload)), ie.Offset)
}

func TestConcatenatedDocuments(t *testing.T) {
	a := event(streamRecord(map[string]string{"eventID": `"a"`}, nil))
	b := event(streamRecord(map[string]string{"eventID": `"b"`}, nil), streamRecord(map[string]string{"eventID": `"c"`}, nil))
	in := append(append(append([]byte{}, a...), '\n'), b...)
	c := decodeReader(t, bytes.NewReader(in), "events.jsonl", FormatAuto, Options{})
	require.NoError(t, c.err)
	require.Len(t, c.recs, 3)
	for i, id := range []string{"a", "b", "c"} {
		require.Equal(t, id, c.recs[i].EventID)
		require.Equal(t, i, c.recs[i].Index)
	}
}

// chunkReader returns at most n bytes per Read, to exercise refills.
type chunkReader struct {
	r io.Reader
	n int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(p) > c.n {
		p = p[:c.n]
	}
	return c.r.Read(p)
}

func TestDecodeDocumentStreaming(t *testing.T) {
	payload := readFixture(t, "lambda/chat_stream.json")
	want := decodeEvent(t, payload)
	for _, n := range []int{1, 7, 4096} {
		got := decodeReader(t, &chunkReader{bytes.NewReader(payload), n}, "chat_stream.json", FormatLambda, Options{})
		require.NoError(t, got.err)
		require.Len(t, got.recs, len(want.recs))
		for i := range want.recs {
			require.Equal(t, string(want.recs[i].Raw), string(got.recs[i].Raw), "chunk %d record %d", n, i)
			require.Equal(t, want.recs[i].NewImage.Attrs(), got.recs[i].NewImage.Attrs())
		}
	}

	// Escaped quotes and backslashes, cut at every place.
	esc := event(
		streamRecord(nil, map[string]string{"NewImage": `{"roomId":{"S":"room-1"},"body":{"S":"say \"안녕\" \\ C:\\temp\\"},"q":{"S":"\\\""}}`}),
		streamRecord(nil, map[string]string{"NewImage": `{"roomId":{"S":"}]\\"},"x\"y":{"S":"\u0022{["}}`}),
	)
	want = decodeEvent(t, esc)
	require.NoError(t, want.err)
	require.Len(t, want.recs, 2)
	require.Equal(t, `say "안녕" \ C:\temp\`, attr(t, want.recs[0].NewImage, "body").S)
	for n := 1; n < 14; n++ {
		got := decodeReader(t, &chunkReader{bytes.NewReader(esc), n}, "esc.json", FormatLambda, Options{})
		require.NoError(t, got.err)
		require.Len(t, got.recs, 2, "chunk %d", n)
		for i := range want.recs {
			require.Equal(t, string(want.recs[i].Raw), string(got.recs[i].Raw))
		}
	}

	// Records larger than the first buffer (within DynamoDB's 400 KB),
	// and a limit on their size.
	big := streamRecord(nil, map[string]string{"NewImage": `{"roomId":{"S":"room-1"},"body":{"S":"` + strings.Repeat("가", 130000) + `"}}`})
	doc := event(streamRecord(nil, nil), big, big, streamRecord(nil, nil))
	got := decodeReader(t, &chunkReader{bytes.NewReader(doc), 100000}, "big.json", FormatAuto, Options{})
	require.NoError(t, got.err)
	require.Len(t, got.recs, 4)
	require.Equal(t, big, string(got.recs[2].Raw))
	got = decodeReader(t, bytes.NewReader(doc), "big.json", FormatAuto, Options{MaxRecordBytes: 300000})
	require.Len(t, got.recs, 1)
	require.ErrorIs(t, got.err, ErrRecordTooLarge)
	var ie *InputError
	require.ErrorAs(t, got.err, &ie)
	require.Equal(t, 1, ie.Index)
}

func TestJSONL(t *testing.T) {
	c := decodeReader(t, bytes.NewReader(readFixture(t, "jsonl/stream.jsonl")), "stream.jsonl", FormatAuto, Options{})
	require.NoError(t, c.err)
	require.Empty(t, c.errs)
	require.Len(t, c.recs, 8)
	lines := strings.Split(string(readFixture(t, "jsonl/stream.jsonl")), "\n")
	wantIdx := []int{1, 3, 5, 6, 7, 8, 9, 10} // blank lines 2 and 4 skipped
	for i, rec := range c.recs {
		require.Equal(t, wantIdx[i], rec.Index)
		require.Equal(t, strings.TrimSuffix(lines[rec.Index-1], "\r"), string(rec.Raw), "Raw is the line without its line end")
	}

	// Lines of both record shapes, and records of several MiB: one of
	// 2.3 MiB of JSON holding an item within DynamoDB's 400 KB (six bytes
	// of escape per character), and one of 9 MiB, too large to be an
	// item, set aside.
	seq := "49590338271490256608559692538361571095921575989136588898"
	escaped := strings.Repeat(`\u0001`, 400_000)
	huge := strings.Repeat("메시지", 1<<20) // 9 MiB
	in := strings.Join([]string{
		streamRecord(nil, nil),
		kinesisRecord(t, seq, kinesisData(nil, nil)),
		streamRecord(nil, map[string]string{"NewImage": `{"roomId":{"S":"room-1"},"body":{"S":"` + escaped + `"}}`}),
		kinesisData(nil, nil),
		streamRecord(nil, nil),
		streamRecord(nil, map[string]string{"NewImage": `{"roomId":{"S":"room-1"},"body":{"S":"` + huge + `"}}`}),
	}, "\n")
	c = decodeReader(t, strings.NewReader(in), "mixed.jsonl", FormatJSONL, Options{})
	require.NoError(t, c.err)
	require.Len(t, c.recs, 5)
	require.Equal(t, seq, c.recs[1].Sequence)
	require.Equal(t, strings.Repeat("\x01", 400_000), attr(t, c.recs[2].NewImage, "body").S)
	require.Equal(t, 5, c.recs[4].Index)
	require.Len(t, c.errs, 1)
	require.ErrorIs(t, c.errs[0], ErrItemTooLarge)
	require.Equal(t, 6, c.errs[0].Index)
	require.Equal(t, "dynamodb.NewImage", c.errs[0].Path)

	// A line past the limit is a record error; the next line goes on.
	c = decodeReader(t, strings.NewReader(in), "mixed.jsonl", FormatJSONL, Options{MaxRecordBytes: 2 << 20})
	require.NoError(t, c.err)
	require.Len(t, c.errs, 2)
	require.ErrorIs(t, c.errs[0], ErrLineTooLong)
	require.Equal(t, 3, c.errs[0].Index)
	require.ErrorIs(t, c.errs[1], ErrLineTooLong)
	require.Len(t, c.recs, 4)

	// A whole event on a line, read as jsonl, says how to read it.
	c = decodeReader(t, strings.NewReader(string(event(streamRecord(nil, nil)))+"\n"), "events.jsonl", FormatJSONL, Options{})
	require.Len(t, c.errs, 1)
	require.Contains(t, c.errs[0].Error(), "format auto or lambda")

	// A bad line is set aside with its line number.
	in = streamRecord(nil, nil) + "\n{not json}\n" + streamRecord(nil, nil) + "\n"
	c = decodeReader(t, strings.NewReader(in), "bad.jsonl", FormatJSONL, Options{})
	require.NoError(t, c.err)
	require.Len(t, c.recs, 2)
	require.Len(t, c.errs, 1)
	require.Equal(t, 2, c.errs[0].Index, "a line format's Index is the line")
	require.Zero(t, c.errs[0].Line, "Line is for elements of documents")
	require.Equal(t, "{not json}", string(c.errs[0].Raw))
	require.Contains(t, c.errs[0].Error(), "bad.jsonl: line 2: malformed record")
}

// countingReader yields n copies of line, counting the bytes read.
type countingReader struct {
	line  []byte
	left  int
	buf   []byte
	bytes int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	if len(c.buf) == 0 {
		if c.left == 0 {
			return 0, io.EOF
		}
		c.left--
		c.buf = c.line
	}
	n := copy(p, c.buf)
	c.buf = c.buf[n:]
	c.bytes += int64(n)
	return n, nil
}

func TestJSONLStreams(t *testing.T) {
	line := []byte(streamRecord(nil, nil) + "\n")
	src := &countingReader{line: line, left: 60000}
	total := int64(len(line)) * 60000
	d, err := NewDecoder(Options{})
	require.NoError(t, err)
	var readAtFirst int64 = -1
	n := 0
	err = d.Decode(context.Background(), src, "many.jsonl", FormatAuto, func(rec *ChangeRecord, rerr *RecordError) error {
		require.Nil(t, rerr)
		if readAtFirst < 0 {
			readAtFirst = src.bytes
		}
		n++
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, 60000, n)
	require.Greater(t, total, int64(20<<20))
	require.Less(t, readAtFirst, int64(2<<20), "the first record is decoded before the input is read through")
}

// failingReader returns its data, then err.
type failingReader struct {
	data []byte
	err  error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if len(f.data) == 0 {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

func TestGzipAndReadErrors(t *testing.T) {
	plain := readFixture(t, "jsonl/stream.jsonl")
	gz := readFixture(t, "jsonl/stream.jsonl.gz")
	for _, name := range []string{"stream.jsonl.gz", "no-extension"} {
		c := decodeReader(t, bytes.NewReader(gz), name, FormatAuto, Options{})
		require.NoError(t, c.err)
		require.Len(t, c.recs, 8, "gzip is told by its magic bytes, not its name")
	}

	// Corrupt gzip: the lines before the break are delivered.
	for _, rel := range []string{"jsonl/corrupt_truncated.jsonl.gz", "jsonl/corrupt_flipped.jsonl.gz"} {
		c := decodeReader(t, bytes.NewReader(readFixture(t, rel)), rel, FormatAuto, Options{})
		require.ErrorIs(t, c.err, ErrCorruptGzip, rel)
		var ie *InputError
		require.ErrorAs(t, c.err, &ie)
		require.Equal(t, rel, ie.Source)
		require.Greater(t, ie.Line, 10)
		require.NotEmpty(t, c.recs)
		for i, rec := range c.recs[:10] {
			require.Equal(t, i+1, rec.Index)
		}
	}
	bad := append([]byte{0x1f, 0x8b, 0x08, 0xff}, bytes.Repeat([]byte{0}, 20)...)
	c := decodeReader(t, bytes.NewReader(bad), "bad.gz", FormatAuto, Options{})
	require.ErrorIs(t, c.err, ErrCorruptGzip)
	require.Contains(t, c.err.Error(), "bad.gz")

	// A read error is an input error naming the line, and is not taken
	// for corrupt gzip.
	boom := errors.New("connection reset")
	cut := bytes.Index(plain, []byte("\n"+`{"eventID": "e4da3b7f`))
	c = decodeReader(t, &failingReader{data: plain[:cut+40], err: boom}, "remote.jsonl", FormatAuto, Options{})
	require.ErrorIs(t, c.err, boom)
	require.NotErrorIs(t, c.err, ErrCorruptGzip)
	require.Len(t, c.recs, 3)
	var ie *InputError
	require.ErrorAs(t, c.err, &ie)
	require.Equal(t, 6, ie.Line)
	half := gz[:len(gz)/2]
	c = decodeReader(t, &failingReader{data: half, err: boom}, "remote.jsonl.gz", FormatAuto, Options{})
	require.ErrorIs(t, c.err, boom)
	require.NotErrorIs(t, c.err, ErrCorruptGzip)
}

func TestEmptyInputs(t *testing.T) {
	for _, c := range []struct {
		name string
		data []byte
	}{
		{"empty.json", nil},
		{"blank.jsonl", []byte("\n \r\n\t\n")},
		{"empty.json.gz", gzipBytes(nil)},
		{"blank.json.gz", gzipBytes([]byte("\n\n"))},
	} {
		for _, f := range []Format{FormatAuto, FormatLambda, FormatJSONL} {
			col := decodeReader(t, bytes.NewReader(c.data), c.name, f, Options{})
			require.ErrorIs(t, col.err, ErrEmpty, "%s as %s", c.name, f)
			require.Contains(t, col.err.Error(), c.name)
		}
	}
}

func TestCallbackErrorAndCancel(t *testing.T) {
	stop := errors.New("sink full")
	payload := readFixture(t, "lambda/chat_stream.json")
	calls := 0
	err := Event(payload, "event", func(rec *ChangeRecord, rerr *RecordError) error {
		calls++
		if calls == 2 {
			return stop
		}
		return nil
	})
	require.Equal(t, stop, err, "the callback's error is returned as it is")
	require.Equal(t, 2, calls)

	d, _ := NewDecoder(Options{})
	calls = 0
	err = d.Decode(context.Background(), bytes.NewReader(readFixture(t, "jsonl/stream.jsonl")), "s.jsonl", FormatAuto, func(*ChangeRecord, *RecordError) error {
		calls++
		return stop
	})
	require.Equal(t, stop, err)
	require.Equal(t, 1, calls)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = d.Decode(ctx, bytes.NewReader(payload), "e.json", FormatAuto, func(*ChangeRecord, *RecordError) error { return nil })
	require.ErrorIs(t, err, context.Canceled)

	// Cancelling mid-stream stops within a few hundred records.
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	calls = 0
	err = d.Decode(ctx, &countingReader{line: []byte(streamRecord(nil, nil) + "\n"), left: 5000}, "many.jsonl", FormatAuto, func(*ChangeRecord, *RecordError) error {
		calls++
		if calls == 10 {
			cancel()
		}
		return nil
	})
	require.ErrorIs(t, err, context.Canceled)
	require.Less(t, calls, 300)
}

func TestParseFormat(t *testing.T) {
	for _, f := range Formats() {
		got, err := ParseFormat(string(f))
		require.NoError(t, err)
		require.Equal(t, f, got)
	}
	got, err := ParseFormat("")
	require.NoError(t, err)
	require.Equal(t, FormatAuto, got)
	_, err = ParseFormat("parquet")
	require.ErrorIs(t, err, ErrUnknownFormat)
	d, _ := NewDecoder(Options{})
	err = d.Decode(context.Background(), strings.NewReader("{}"), "x", Format("csv"), func(*ChangeRecord, *RecordError) error { return nil })
	require.ErrorIs(t, err, ErrUnknownFormat)
}

func base64Std(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestInputErrorsTree(t *testing.T) {
	a := &InputError{Source: "a.json", Line: 3, Index: -1, Offset: -1, Err: ErrTruncated}
	b := &InputError{Source: "b.json.gz", Index: -1, Offset: -1, Err: ErrCorruptGzip}
	err := errors.Join(a, fmt.Errorf("export: %w", errors.Join(b, errors.New("other"))))
	require.Equal(t, []*InputError{a, b}, InputErrors(err))
	require.Nil(t, InputErrors(nil))
	require.Equal(t, "a.json: line 3: truncated JSON", a.Error())
	require.Equal(t, "b.json.gz: corrupt gzip data", b.Error())

	r := &RecordError{Source: "s.jsonl", Index: 4, Path: "dynamodb.NewImage.n", Err: &flatten.AttrError{Path: "n", Err: flatten.ErrBadNumber}}
	require.Equal(t, "s.jsonl: line 4: dynamodb.NewImage.n: N is not a number", r.Error())
	require.ErrorIs(t, r, flatten.ErrBadNumber)
	r = &RecordError{Source: "event", Index: 2, Line: 9, Err: ErrBadRecord}
	require.Equal(t, "event: line 9: record 2: malformed record", r.Error())
	r = &RecordError{Source: "event", Index: 1, Line: 1, Err: ErrBadRecord}
	require.Equal(t, "event: line 1: record 1: malformed record", r.Error(), "the second element of a one-line document")

	_, err = NewDecoder(Options{MaxRecordBytes: -1})
	require.Error(t, err)
}

func TestDecodeEventWorkers(t *testing.T) {
	var doc struct{ Records []json.RawMessage }
	require.NoError(t, json.Unmarshal(readFixture(t, "lambda/bad_records.json"), &doc))
	recs := benchRecords(1 << 20)
	for i, bad := range doc.Records {
		at := (i * 37) % len(recs)
		recs = append(recs[:at], append([]string{string(bad)}, recs[at:]...)...)
	}
	whole := []byte("{\"Records\":[\n" + strings.Join(recs, ",\n") + "\n]}")
	cut := whole[:len(whole)*9/10]
	for _, payload := range [][]byte{whole, cut} {
		var want []goldenRecord
		seqErr := Event(payload, "event", func(rec *ChangeRecord, rerr *RecordError) error {
			want = append(want, renderRecord(rec, rerr))
			return nil
		})
		for _, workers := range []int{2, 3, 8} {
			d, err := NewDecoder(Options{Workers: workers})
			require.NoError(t, err)
			for run := 0; run < 2; run++ { // helpers are reused
				var got []goldenRecord
				err = d.DecodeEvent(payload, "event", func(rec *ChangeRecord, rerr *RecordError) error {
					got = append(got, renderRecord(rec, rerr))
					return nil
				})
				require.Equal(t, fmt.Sprint(seqErr), fmt.Sprint(err))
				require.Equal(t, len(want), len(got))
				for i := range want {
					require.Equal(t, want[i], got[i], "workers %d record %d", workers, i)
				}
			}
		}
	}
	// The callback's error stops the delivery.
	d, err := NewDecoder(Options{Workers: 2})
	require.NoError(t, err)
	stop := errors.New("stop")
	calls := 0
	err = d.DecodeEvent(whole, "event", func(*ChangeRecord, *RecordError) error {
		calls++
		if calls == 5 {
			return stop
		}
		return nil
	})
	require.Equal(t, stop, err)
	require.Equal(t, 5, calls)
}
