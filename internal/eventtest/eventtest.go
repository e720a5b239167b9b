// Package eventtest builds DynamoDB stream and Kinesis records for tests:
// valid records of the chat-messages table with chosen fields replaced.
package eventtest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
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
