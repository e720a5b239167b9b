// Package eventtest builds DynamoDB stream and Kinesis records for tests:
// valid records of the chat-messages table with chosen fields replaced.
package eventtest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/flatten"
)

// Year10000 is the first instant of year 10000, in each unit.
const (
	Year10000Seconds = "253402300800"
	Year10000Millis  = "253402300800000"
	Year10000Micros  = "253402300800000000"
)

// StreamRecord returns a DynamoDB stream record with the dynamodb fields
// replaced by ddb (raw JSON values; "" removes a field) and the top-level
// fields by top.
func StreamRecord(top, ddb map[string]string) string {
	fields := map[string]string{
		"ApproximateCreationDateTime": `1775001600`,
		"Keys":                        `{"roomId":{"S":"room-1"},"sk":{"S":"MSG#0001"}}`,
		"NewImage":                    `{"roomId":{"S":"room-1"},"sk":{"S":"MSG#0001"},"body":{"S":"안녕"}}`,
		"SequenceNumber":              `"111200000000003409224"`,
		"StreamViewType":              `"NEW_IMAGE"`,
	}
	for k, v := range ddb {
		fields[k] = v
	}
	outer := map[string]string{
		"eventID":        `"e1"`,
		"eventName":      `"INSERT"`,
		"eventVersion":   `"1.1"`,
		"eventSource":    `"aws:dynamodb"`,
		"awsRegion":      `"ap-northeast-2"`,
		"eventSourceARN": `"arn:aws:dynamodb:ap-northeast-2:123456789012:table/chat-messages/stream/2026-03-01T00:00:00.000"`,
	}
	for k, v := range top {
		outer[k] = v
	}
	join := func(m map[string]string) string {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var parts []string
		for _, k := range keys {
			if m[k] != "" {
				parts = append(parts, fmt.Sprintf("%q:%s", k, m[k]))
			}
		}
		return "{" + strings.Join(parts, ",") + "}"
	}
	outer["dynamodb"] = join(fields)
	return join(outer)
}

// Event returns a {"Records":[...]} document of records.
func Event(records ...string) []byte {
	return []byte(`{"Records":[` + strings.Join(records, ",") + `]}`)
}

// KinesisData returns a DynamoDB-for-Kinesis record with fields replaced.
func KinesisData(top, ddb map[string]string) string {
	s := StreamRecord(top, ddb)
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		panic(err)
	}
	delete(m, "eventSourceARN")
	delete(m, "eventVersion")
	if _, ok := top["tableName"]; !ok {
		m["tableName"] = json.RawMessage(`"chat-messages"`)
	}
	var d map[string]json.RawMessage
	_ = json.Unmarshal(m["dynamodb"], &d)
	delete(d, "SequenceNumber")
	if _, ok := ddb["ApproximateCreationDateTime"]; !ok {
		d["ApproximateCreationDateTime"] = json.RawMessage(`1775001600123`)
	}
	for k, v := range ddb {
		if v == "" {
			delete(d, k)
		}
	}
	m["dynamodb"], _ = json.Marshal(d)
	b, _ := json.Marshal(m)
	return string(b)
}

// KinesisRecord returns a Kinesis event record with sequence number seq
// whose data is data (a KinesisData record).
func KinesisRecord(t testing.TB, seq, data string) string {
	b, err := json.Marshal(map[string]any{
		"kinesis": map[string]any{
			"kinesisSchemaVersion": "1.0", "partitionKey": "7D6A1C9E", "sequenceNumber": seq,
			"data": base64.StdEncoding.EncodeToString([]byte(data)), "approximateArrivalTimestamp": json.Number("1775001600.123"),
		},
		"eventSource": "aws:kinesis", "eventVersion": "1.0", "eventID": "shardId-000000000006:" + seq,
		"eventName": "aws:kinesis:record", "awsRegion": "ap-northeast-2",
		"eventSourceARN": "arn:aws:kinesis:ap-northeast-2:123456789012:stream/chat-cdc",
	})
	require.NoError(t, err)
	return string(b)
}

// Good returns three good records of a Lambda event, of two tables,
// with event IDs that name them; the last is hourly.
func Good(t testing.TB) []string {
	return []string{
		StreamRecord(map[string]string{"eventID": `"good-0"`}, map[string]string{
			"NewImage": `{"roomId":{"S":"room-1"},"sk":{"S":"MSG#0001"},"body":{"S":"안녕"},"price":{"N":"12.50"},"n":{"N":"7"}}`}),
		StreamRecord(map[string]string{"eventID": `"good-1"`, "eventName": `"MODIFY"`}, map[string]string{
			"NewImage": `{"roomId":{"S":"room-1"},"sk":{"S":"MSG#0002"},"body":{"S":"hi"},"meta":{"S":"{\"k\":\"v\"}"},"secret":{"S":"pw"}}`,
			"OldImage": `{"roomId":{"S":"room-1"},"sk":{"S":"MSG#0002"},"body":{"S":"h"}}`}),
		StreamRecord(map[string]string{"eventID": `"good-2"`, "eventSourceARN": `"arn:aws:dynamodb:ap-northeast-2:123456789012:table/chat-rooms/stream/x"`},
			map[string]string{"Keys": `{"roomId":{"S":"room-9"}}`, "NewImage": `{"roomId":{"S":"room-9"},"title":{"S":"t"}}`}),
	}
}

// Poison returns records, each valid JSON, that carry what one
// record can carry at the edges of every range that becomes a path, a
// file name, a partition, a Parquet value or an S3 key.
func Poison(t testing.TB) map[string]string {
	arn := func(table string) map[string]string {
		return map[string]string{"eventSourceARN": `"arn:aws:dynamodb:ap-northeast-2:123456789012:table/` + table + `/stream/x"`}
	}
	img := func(attrs string) map[string]string {
		return map[string]string{"NewImage": `{"roomId":{"S":"room-p"},"sk":{"S":"MSG#p"}` + attrs + `}`}
	}
	long := func(n int) string { return strings.Repeat("x", n) }
	out := map[string]string{
		"year 10000 seconds":         StreamRecord(nil, map[string]string{"ApproximateCreationDateTime": Year10000Seconds}),
		"year 10000 float seconds":   StreamRecord(nil, map[string]string{"ApproximateCreationDateTime": Year10000Seconds + ".000"}),
		"year 10000 exponent":        StreamRecord(nil, map[string]string{"ApproximateCreationDateTime": "2.534023008e11"}),
		"year 10000 RFC 3339":        StreamRecord(nil, map[string]string{"ApproximateCreationDateTime": `"9999-12-31T23:00:00-01:00"`}),
		"year 10000 milliseconds":    KinesisRecord(t, "2", KinesisData(nil, map[string]string{"ApproximateCreationDateTime": Year10000Millis})),
		"year 10000 microseconds":    KinesisRecord(t, "3", KinesisData(nil, map[string]string{"ApproximateCreationDateTime": Year10000Micros, "ApproximateCreationDateTimePrecision": `"MICROSECOND"`})),
		"last microsecond of 9999":   KinesisRecord(t, "4", KinesisData(nil, map[string]string{"ApproximateCreationDateTime": "253402300799999999", "ApproximateCreationDateTimePrecision": `"MICROSECOND"`})),
		"last second of 9999 hourly": StreamRecord(arn("chat-rooms"), map[string]string{"ApproximateCreationDateTime": "253402300799.999999"}),
		"epoch":                      StreamRecord(nil, map[string]string{"ApproximateCreationDateTime": "0"}),
		"1969":                       StreamRecord(nil, map[string]string{"ApproximateCreationDateTime": `"1969-12-31T23:59:59Z"`}),
		"negative time":              StreamRecord(nil, map[string]string{"ApproximateCreationDateTime": "-1"}),
		"NaN time":                   StreamRecord(nil, map[string]string{"ApproximateCreationDateTime": `"NaN"`}),
		"huge time":                  StreamRecord(nil, map[string]string{"ApproximateCreationDateTime": "1e400"}),
		"table _errors":              StreamRecord(arn("_errors"), nil),
		"table _ddblake":             StreamRecord(arn("_ddblake"), nil),
		"table _unknown":             StreamRecord(arn("_unknown"), nil),
		"table _inputs":              StreamRecord(arn("_inputs"), nil),
		"table ...":                  StreamRecord(arn("..."), nil),
		"table ---":                  KinesisRecord(t, "5", KinesisData(map[string]string{"tableName": `"---"`}, nil)),
		"table 2 chars":              StreamRecord(arn("ab"), nil),
		"table 256 chars":            StreamRecord(arn(long(256)), nil),
		"table ../x":                 KinesisRecord(t, "6", KinesisData(map[string]string{"tableName": `"../x"`}, nil)),
		"sequence 40 digits":         StreamRecord(nil, map[string]string{"SequenceNumber": `"` + strings.Repeat("9", 40) + `"`}),
		"sequence 1 digit":           StreamRecord(nil, map[string]string{"SequenceNumber": `"0"`}),
		"kinesis sequence 128":       KinesisRecord(t, strings.Repeat("9", 128), KinesisData(nil, nil)),
		"kinesis sequence 129":       KinesisRecord(t, strings.Repeat("9", 129), KinesisData(nil, nil)),
		"event id 256 bytes":         StreamRecord(map[string]string{"eventID": `"` + long(256) + `"`}, nil),
		"event id 257 bytes":         StreamRecord(map[string]string{"eventID": `"` + long(257) + `"`}, nil),
		"event id lone surrogate":    StreamRecord(map[string]string{"eventID": `"\ud800"`}, nil),
		"38 digits":                  StreamRecord(nil, img(`,"n":{"N":"12345678901234567890123456789012345678"},"price":{"N":"99999999999999999999999999999999999999"}`)),
		"smallest number":            StreamRecord(nil, img(`,"n":{"N":"1E-130"},"price":{"N":"-1E-130"}`)),
		"largest number":             StreamRecord(nil, img(`,"n":{"N":"9.9999999999999999999999999999999999999E+125"},"price":{"N":"-9.99E+125"}`)),
		"38 fraction digits":         StreamRecord(nil, img(`,"n":{"N":"0.00000000000000000000000000000000000001"},"f":{"N":"0.1"}`)),
		"numbers in lists and sets":  StreamRecord(nil, img(`,"ns":{"NS":["1E-130","9.99E+125","1"]},"nl":{"L":[{"N":"1E+125"},{"N":"1"}]}`)),
		"string 350 KB":              StreamRecord(nil, img(`,"body":{"S":"`+long(350_000)+`"}`)),
		"binary of 0xff":             StreamRecord(nil, img(`,"blob":{"B":"`+base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xff}, 100_000))+`"}`)),
		"attribute name 64 KB":       StreamRecord(nil, img(`,"`+long(65_535)+`":{"S":"x"}`)),
		"attribute name 64 KB + 1":   StreamRecord(nil, img(`,"`+long(65_536)+`":{"S":"x"}`)),
		"empty attribute name":       StreamRecord(nil, img(`,"":{"M":{"":{"S":"x"}}}`)),
		"empty nested name":          StreamRecord(nil, img(`,"m":{"M":{"":{"M":{}}}}`)),
		"attribute name 300 bytes":   StreamRecord(nil, img(`,"`+strings.Repeat("가", 100)+`":{"S":"x"}`)),
		"nested name over 255":       StreamRecord(nil, img(`,"a":{"M":{"`+long(200)+`":{"M":{"`+long(200)+`":{"S":"x"}}}}}`)),
		"names of metadata columns":  StreamRecord(nil, img(`,"_extra":{"S":"x"},"_event_name":{"S":"x"},"dt":{"S":"x"},"hr":{"N":"1"},"_old_image":{"S":"x"},"_latest_rank":{"N":"1"}`)),
		"names that sanitize empty":  StreamRecord(nil, img(`,"이름":{"S":"x"},"___":{"S":"y"},"-":{"N":"1"}`)),
		"nesting 32 levels":          StreamRecord(nil, img(`,"d":`+strings.Repeat(`{"M":{"n":`, 31)+`{"S":"deep"}`+strings.Repeat("}}", 31))),
		"nesting 33 levels":          StreamRecord(nil, img(`,"d":`+strings.Repeat(`{"M":{"n":`, 32)+`{"S":"deep"}`+strings.Repeat("}}", 32))),
		"type change":                StreamRecord(nil, img(`,"body":{"N":"1"},"n":{"S":"seven"},"price":{"BOOL":true}`)),
		"empty values":               StreamRecord(nil, img(`,"e":{"L":[]},"m":{"M":{}},"z":{"NULL":true},"s":{"S":""}`)),
		"lone surrogate in a value":  StreamRecord(nil, img(`,"body":{"S":"\ud800"}`)),
		"lone surrogate in a name":   StreamRecord(nil, img(`,"\udc00":{"S":"x"}`)),
		"lone surrogate in meta":     StreamRecord(nil, img(`,"meta":{"S":"{\"k\":\"\\ud800\"}"}`)),
		"meta with repeated keys":    StreamRecord(nil, img(`,"meta":{"S":"{\"k\":1,\"k\":2}"}`)),
		"meta nested deep":           StreamRecord(nil, img(`,"meta":{"S":"`+strings.Repeat(`{\"a\":`, 40)+`1`+strings.Repeat("}", 40)+`"}`)),
		"two NewImage":               strings.Replace(StreamRecord(nil, nil), `"NewImage":`, `"NewImage":{"roomId":{"S":"x"}},"NewImage":`, 1),
		"two eventName":              strings.Replace(StreamRecord(nil, nil), `"eventName":`, `"eventName":"REMOVE","eventName":`, 1),
		"two dynamodb":               strings.Replace(StreamRecord(nil, nil), `"dynamodb":`, `"dynamodb":{},"dynamodb":`, 1),
		"item over 400 KB":           StreamRecord(nil, img(`,"body":{"S":"`+long(flatten.MaxItemBytes)+`"}`)),
		"OLD_IMAGE modify":           StreamRecord(map[string]string{"eventName": `"MODIFY"`}, map[string]string{"NewImage": "", "OldImage": `{"roomId":{"S":"room-1"},"sk":{"S":"MSG#0001"},"body":{"S":"before"},"secret":{"S":"pw"}}`}),
		"KEYS_ONLY remove":           StreamRecord(map[string]string{"eventName": `"REMOVE"`}, map[string]string{"NewImage": ""}),
		"modify with nothing":        StreamRecord(map[string]string{"eventName": `"MODIFY"`}, map[string]string{"NewImage": "", "Keys": ""}),
		"routed to notices":          StreamRecord(nil, map[string]string{"NewImage": `{"roomId":{"S":"room-1"},"sk":{"S":"NOTICE#1"}}`}),
		"not an object":              `[1,2,3]`,
		"a string":                   `"x"`,
		"null":                       `null`,
		"kinesis data not base64":    KinesisRecord(t, "7", "{"),
		"whole event as a record":    string(Event(StreamRecord(nil, nil))),
	}
	for n := 3; n <= 255; n += 36 {
		out[fmt.Sprintf("table %d chars", n)] = StreamRecord(arn(long(n)), nil)
	}
	for n := 248; n <= 255; n++ {
		out[fmt.Sprintf("table %d chars", n)] = StreamRecord(arn(long(n)), nil)
		out[fmt.Sprintf("camel table %d chars", n)] = KinesisRecord(t, "8", KinesisData(map[string]string{"tableName": `"` + strings.Repeat("aB", n)[:n] + `"`}, nil))
		out[fmt.Sprintf("dotted table %d chars", n)] = StreamRecord(arn(strings.Repeat("a.", n)[:n]), nil)
	}
	return out
}
