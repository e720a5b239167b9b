package decode

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDetectFixtures(t *testing.T) {
	cases := []struct {
		file string
		want Format
	}{
		{"lambda/chat_stream.json", FormatLambda},
		{"lambda/keys_only.json", FormatLambda},
		{"lambda/bad_records.json", FormatLambda},
		{"lambda/truncated.json", FormatLambda},
		{"kinesis/chat_ms.json", FormatKinesis},
		{"kinesis/chat_us.json", FormatKinesis},
		{"kinesis/data/chat_ms.jsonl", FormatJSONL},
		{"jsonl/stream.jsonl", FormatJSONL},
		{"jsonl/stream.jsonl.gz", FormatJSONL},
		{"jsonl/stream_gzip.data", FormatJSONL},
		{"jsonl/getrecords.jsonl", FormatJSONL},
		{"jsonl/corrupt_truncated.jsonl.gz", FormatJSONL},
		{"export/full/AWSDynamoDB/01775001600000-a1b2c3d4/data/xyz3fxa5rm3hplhyqvxlrmfxtm.json.gz", FormatExport},
		{"incremental/chat/AWSDynamoDB/01775088000000-e5f6a7b8/data/3pzr5kq2ha7xwn6dfbmlvtcyue.json.gz", FormatIncremental},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			got, err := detect(readFixture(t, c.file))
			require.NoError(t, err)
			require.Equal(t, c.want, got)
		})
	}
}

func TestDetect(t *testing.T) {
	cases := []struct {
		name, head string
		want       Format
		err        error
	}{
		{"lambda event, source last", `{"Records":[{"eventID":"1","eventName":"INSERT","eventSource":"aws:dynamodb"}]}`, FormatLambda, nil},
		{"kinesis event, source first", `{"Records":[{"eventSource":"aws:kinesis","kinesis":{}}]}`, FormatKinesis, nil},
		{"kinesis by ARN", `{"Records":[{"eventID":"x","eventSourceARN":"arn:aws:kinesis:r:1:stream/s"}]}`, FormatKinesis, nil},
		{"kinesis object first", `  {"Records" : [ {"kinesis":{"data":"e30="}} ] }`, FormatKinesis, nil},
		{"records after other keys", `{"version":1,"Records":[{"dynamodb":{}}]}`, FormatLambda, nil},
		{"empty Records", `{"Records":[]}`, FormatLambda, nil},
		{"cut in the first record", `{"Records":[{"eventID":"abc`, FormatLambda, nil},
		{"stream record line", `{"eventID":"1","eventName":"INSERT","dynamodb":{}}` + "\n", FormatJSONL, nil},
		{"kinesis record line", `{"kinesis":{"data":"e30="},"eventSource":"aws:kinesis"}`, FormatJSONL, nil},
		{"DynamoDB-for-Kinesis line", `{"awsRegion":"x","tableName":"t"}`, FormatJSONL, nil},
		{"unknown keys first", `{"x":[1,{"y":"}"}],"dynamodb":{}}`, FormatJSONL, nil},
		{"export line", `{"Item":{"id":{"S":"1"}}}`, FormatExport, nil},
		{"incremental line", `{"Metadata":{"WriteTimestampMicros":{"N":"1"}},"Keys":{}}`, FormatIncremental, nil},
		{"incremental, keys first", `{"Keys":{"id":{"S":"1"}},"NewImage":{}}`, FormatIncremental, nil},
		{"byte order mark", "\xEF\xBB\xBF" + `{"Item":{}}`, FormatExport, nil},
		{"manifest summary", `{"version":"2020-06-30","exportArn":"arn:..."}`, "", ErrUnknownFormat},
		{"empty", "", "", ErrEmpty},
		{"white space", " \n\t", "", ErrEmpty},
		{"not JSON", "roomId,sk,body\n", "", ErrUnknownFormat},
		{"array", `[{"Item":{}}]`, "", ErrUnknownFormat},
		{"no telling key", `{"a":1,"b":2}`, "", ErrUnknownFormat},
		{"gzip header only", "\x1f\x8b\x08\x00", "", ErrCorruptGzip},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := detect([]byte(c.head))
			if c.err != nil {
				require.ErrorIs(t, err, c.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, c.want, got)
		})
	}
	// A gzip head cut short still tells its format.
	gz := readFixture(t, "jsonl/stream.jsonl.gz")
	got, err := detect(gz[:len(gz)/3])
	require.NoError(t, err)
	require.Equal(t, FormatJSONL, got)
}
