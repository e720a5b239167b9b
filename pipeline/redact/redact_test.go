package redact

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/flatten"
)

var testKey = []byte("redact-test-key-0123456789")

func mask(s string) string {
	h := hmac.New(sha256.New, testKey)
	h.Write([]byte(s))
	return hex.EncodeToString(h.Sum(nil))
}

// The clear values the rules hide; none may appear in any output, not
// even in part.
var secrets = []string{
	"PHONEq7Xw9Pk", "987654321012", "MAILtY5rE2wQ", "METAtok9hJ3k", "PROFsecretX1", "ITEMphone77z", "KEYpZ4xC7vB1", "FRIENDw8Rt",
}

func testRules() *flatten.Redactor {
	return flatten.NewRedactor(testKey, flatten.TableConfig{
		Mask:   []string{"phone", "contacts", "meta.token", "userId", "items.*.phone"},
		Omit:   []string{"ssn", "profile.secret"},
		Expand: []string{"meta"},
	})
}

const item = `{"userId":{"S":"KEYpZ4xC7vB1"},"phone":{"S":"PHONEq7Xw9Pk"},"ssn":{"N":"987654321012"},` +
	`"contacts":{"M":{"MAILtY5rE2wQ@x.com":{"S":"FRIENDw8Rt"}}},` +
	`"meta":{"S":"{\"token\":\"METAtok9hJ3k\",\"client\":\"ios\"}"},` +
	`"profile":{"M":{"secret":{"S":"PROFsecretX1"},"nick":{"S":"bob"}}},` +
	`"items":{"L":[{"M":{"phone":{"S":"ITEMphone77z"},"qty":{"N":"2"}}}]},"n":{"N":"1.2.3"}}`

const keys = `{"userId":{"S":"KEYpZ4xC7vB1"}}`

func streamRecord() string {
	return `{"eventID":"e1","eventName":"INSERT","eventVersion":"1.1","eventSource":"aws:dynamodb","awsRegion":"us-east-1",` +
		`"eventSourceARN":"arn:aws:dynamodb:us-east-1:123456789012:table/chat/stream/2026","dynamodb":{"ApproximateCreationDateTime":1775001600,` +
		`"Keys":` + keys + `,"NewImage":` + item + `,"OldImage":` + item + `,"SequenceNumber":"100","SizeBytes":10,"StreamViewType":"NEW_AND_OLD_IMAGES"}}`
}

func kinesisData() string {
	return `{"awsRegion":"us-east-1","eventID":"k1","eventName":"MODIFY","recordFormat":"application/json","tableName":"chat",` +
		`"dynamodb":{"ApproximateCreationDateTime":1775001600000,"Keys":` + keys + `,"NewImage":` + item + `,"SizeBytes":10},"eventSource":"aws:dynamodb"}`
}

func kinesisRecord(data string) string {
	return `{"kinesis":{"kinesisSchemaVersion":"1.0","partitionKey":"p","sequenceNumber":"4959","data":"` +
		base64.StdEncoding.EncodeToString([]byte(data)) + `","approximateArrivalTimestamp":1775001600.1},` +
		`"eventSource":"aws:kinesis","eventID":"shardId-000000000000:4959","eventName":"aws:kinesis:record"}`
}

func formats() map[string]string {
	return map[string]string{
		"stream":      streamRecord(),
		"kinesis":     kinesisRecord(kinesisData()),
		"export":      `{"Item":` + item + `}`,
		"incremental": `{"Metadata":{"WriteTimestampMicros":{"N":"1775001600000000"}},"Keys":` + keys + `,"NewImage":` + item + `,"OldImage":` + item + `}`,
		"event":       `{"Records":[` + streamRecord() + `,` + kinesisRecord(kinesisData()) + `]}`,
	}
}

var base64Strings = regexp.MustCompile(`"([A-Za-z0-9+/]{16,}={0,2})"`)

// texts returns out and the decoding of every base64 string in it (the
// data of Kinesis records), recursively.
func texts(out []byte) []string {
	all := []string{string(out)}
	for _, m := range base64Strings.FindAllSubmatch(out, -1) {
		if b, err := base64.StdEncoding.DecodeString(string(m[1])); err == nil {
			all = append(all, texts(b)...)
		}
	}
	return all
}

// requireNoLeak fails when any 6 bytes of a secret appear in out.
func requireNoLeak(t *testing.T, out []byte, what string) {
	t.Helper()
	for _, text := range texts(out) {
		for _, s := range secrets {
			for i := 0; i+6 <= len(s); i++ {
				if strings.Contains(text, s[i:i+6]) {
					t.Fatalf("%s: %q of the hidden %q is in the output:\n%s", what, s[i:i+6], s, text)
				}
			}
		}
	}
}

func TestRecordFormats(t *testing.T) {
	rules := testRules()
	for name, raw := range formats() {
		t.Run(name, func(t *testing.T) {
			res := Record([]byte(raw), rules)
			require.True(t, res.Changed)
			require.False(t, res.Broken)
			require.True(t, json.Valid(res.Raw), "%s", res.Raw)
			requireNoLeak(t, res.Raw, name)
			all := strings.Join(texts(res.Raw), "\n")
			for _, m := range []string{"PHONEq7Xw9Pk", "KEYpZ4xC7vB1", "ITEMphone77z", "METAtok9hJ3k"} {
				require.Contains(t, all, mask(m), "the mask of %s, as the row holds it", m)
			}
			require.Contains(t, all, `"nick":{"S":"bob"}`, "what is not hidden is kept")
			require.Contains(t, all, `\"client\":\"ios\"`, "expanded JSON keeps what is not hidden")
			require.Contains(t, all, `"n":{"N":"1.2.3"}`, "the bad number that set the record aside is kept")
		})
	}
}

func TestRecordUnchanged(t *testing.T) {
	raw := []byte("{\n  \"Item\": {\"a\": {\"S\": \"x\"}}\n}")
	res := Record(raw, testRules())
	require.False(t, res.Changed)
	require.Equal(t, raw, res.Raw, "nothing hidden: the bytes as read")
	res = Record([]byte(streamRecord()), flatten.NewRedactor(nil, flatten.TableConfig{Expand: []string{"meta"}}))
	require.Equal(t, streamRecord(), string(res.Raw), "no omit or mask rule: the bytes as read")
}

// TestRecordBroken cuts every record at every byte, and breaks it at every
// byte outside its strings: whatever is kept is valid JSON and shows no
// hidden value, in part or whole.
func TestRecordBroken(t *testing.T) {
	rules := testRules()
	check := func(t *testing.T, raw []byte, what string) Result {
		res := Record(raw, rules)
		if res.Raw != nil {
			require.True(t, json.Valid(res.Raw), "%s: %q", what, res.Raw)
		}
		requireNoLeak(t, res.Raw, what)
		return res
	}
	step := 1 // every byte; every 7th with -short
	if testing.Short() {
		step = 7
	}
	for name, raw := range formats() {
		t.Run(name, func(t *testing.T) {
			for i := 0; i < len(raw); i += step {
				res := check(t, []byte(raw[:i]), fmt.Sprintf("cut at %d", i))
				require.True(t, res.Broken, "cut at %d", i)
			}
			for j, i := range outsideStrings(raw) {
				if j%step != 0 {
					continue
				}
				for _, bad := range []string{"\x01", "", "}", "]", ",", ":", "{", "\""} {
					check(t, []byte(raw[:i]+bad+raw[i+1:]), fmt.Sprintf("byte %d as %q", i, bad))
				}
			}
		})
	}
	t.Run("kinesis data", func(t *testing.T) {
		data := kinesisData()
		for i := 0; i < len(data); i++ {
			res := check(t, []byte(kinesisRecord(data[:i])), fmt.Sprintf("data cut at %d", i))
			require.True(t, res.Broken && res.BrokenInData, "data cut at %d", i)
		}
		for _, i := range outsideStrings(data) {
			check(t, []byte(kinesisRecord(data[:i]+"\x01"+data[i+1:])), fmt.Sprintf("data byte %d", i))
		}
	})
}

// outsideStrings returns the offsets of the bytes of raw that are not
// inside a string literal.
func outsideStrings(raw string) []int {
	var out []int
	in := false
	for i := 0; i < len(raw); i++ {
		switch {
		case in && raw[i] == '\\':
			i++
		case raw[i] == '"':
			in = !in
		case !in:
			out = append(out, i)
		}
	}
	return out
}

func TestRecordBrokenKeepsWhatCame(t *testing.T) {
	rules := testRules()
	// Bad JSON after the masked field: the envelope read before the
	// break is kept, the images are not.
	raw := `{"eventName":"INSERT","dynamodb":{"SequenceNumber":"12","NewImage":{"phone":{"S":"PHONEq7Xw9Pk"},"x":{"N":1.2.3}}}}`
	res := Record([]byte(raw), rules)
	require.True(t, res.Broken)
	require.Equal(t, strings.Index(raw, "1.2.3")+3, res.BrokenAt)
	require.Equal(t, `{"eventName":"INSERT","dynamodb":{"SequenceNumber":"12"}}`, string(res.Raw))

	// A closer missing: what follows moves into the member before it
	// (NewImage into Keys); nothing of the images is kept.
	raw = strings.Replace(streamRecord(), `"}},"NewImage"`, `"},"NewImage"`, 1)
	res = Record([]byte(raw), rules)
	require.True(t, res.Broken)
	require.Equal(t, len(raw), res.BrokenAt)
	require.JSONEq(t, `{"eventID":"e1","eventName":"INSERT","eventVersion":"1.1","eventSource":"aws:dynamodb","awsRegion":"us-east-1",`+
		`"eventSourceARN":"arn:aws:dynamodb:us-east-1:123456789012:table/chat/stream/2026","dynamodb":{"ApproximateCreationDateTime":1775001600}}`,
		string(res.Raw))

	// Kinesis data that is not valid JSON: the outer record is kept, the
	// data keeps its envelope.
	data := kinesisData()
	res = Record([]byte(kinesisRecord(data[:len(data)-40])), rules)
	require.True(t, res.Broken && res.BrokenInData)
	var outer struct{ Kinesis struct{ Data []byte } }
	require.NoError(t, json.Unmarshal(res.Raw, &outer))
	require.Equal(t, `{"awsRegion":"us-east-1","eventID":"k1","eventName":"MODIFY","recordFormat":"application/json","tableName":"chat","dynamodb":{"ApproximateCreationDateTime":1775001600000}}`,
		string(outer.Kinesis.Data))

	// Not JSON at all: nothing is kept.
	res = Record([]byte("PHONEq7Xw9Pk,987654321012"), rules)
	require.True(t, res.Broken)
	require.Nil(t, res.Raw)
	require.Equal(t, 0, res.BrokenAt)

	// Kinesis data that is not base64 is withheld.
	res = Record([]byte(`{"kinesis":{"data":"!!PHONEq7Xw9Pk"},"eventSource":"aws:kinesis"}`), rules)
	require.Equal(t, `{"kinesis":{"data":null},"eventSource":"aws:kinesis"}`, string(res.Raw))

	// An image that is not an object is withheld.
	res = Record([]byte(`{"dynamodb":{"NewImage":["PHONEq7Xw9Pk"],"OldImage":null}}`), rules)
	require.Equal(t, `{"dynamodb":{"NewImage":null,"OldImage":null}}`, string(res.Raw))
}

func TestRecordMalformedValues(t *testing.T) {
	rules := testRules()
	for _, c := range []struct{ in, want string }{
		// A value with two types at a masked path: masked as text.
		{`{"Item":{"phone":{"S":"PHONEq7Xw9Pk","N":"1"}}}`, `{"Item":{"phone":{"S":"` + mask(`{"S":"PHONEq7Xw9Pk","N":"1"}`) + `"}}}`},
		// A set where a rule names its members: masked whole.
		{`{"Item":{"items":{"SS":["ITEMphone77z"]}}}`, `{"Item":{"items":{"S":"` + mask(`{"SS":["ITEMphone77z"]}`) + `"}}}`},
		// Expand-path text that is not a JSON object: masked whole.
		{`{"Item":{"meta":{"S":"{\"token\":\"METAtok9hJ3k\""}}}`, `{"Item":{"meta":{"S":"` + mask(`{"token":"METAtok9hJ3k"`) + `"}}}`},
		// A malformed map under a rule: masked as text.
		{`{"Item":{"profile":{"M":"PROFsecretX1"}}}`, `{"Item":{"profile":{"S":"` + mask(`{"M":"PROFsecretX1"}`) + `"}}}`},
		// An omitted list element is dropped.
		{`{"Item":{"items":{"L":[{"M":{"phone":{"S":"ITEMphone77z"}}},{"S":"x"}]}}}`,
			`{"Item":{"items":{"L":[{"M":{"phone":{"S":"` + mask("ITEMphone77z") + `"}}},{"S":"x"}]}}}`},
	} {
		res := Record([]byte(c.in), rules)
		require.Equal(t, c.want, string(res.Raw), c.in)
	}
}

// FuzzRecord checks that any input redacts without a panic into valid
// JSON (or nothing), and that the formats' records, however cut, show no
// hidden value.
func FuzzRecord(f *testing.F) {
	for _, raw := range formats() {
		f.Add([]byte(raw))
	}
	f.Add([]byte(`{"Item":{"meta":{"S":"{\"token\":[1,{\"a\":\"b\"}]}"}}}`))
	f.Add([]byte(`[{"NewImage":{"phone":{"L":[{"S":"x"}]}}}]`))
	rules := testRules()
	f.Fuzz(func(t *testing.T, raw []byte) {
		res := Record(raw, rules)
		if res.Raw != nil && !json.Valid(res.Raw) {
			t.Fatalf("not valid JSON: %q from %q", res.Raw, raw)
		}
		if !res.Changed && string(res.Raw) != string(raw) {
			t.Fatalf("unchanged, but not the input: %q", res.Raw)
		}
	})
}
