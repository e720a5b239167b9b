package laketest

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
)

// Privacy is a configuration that omits and masks, with inputs of every
// format whose items hold values it hides, for tests that read back
// everything a run wrote and look for those values.
//
// Table "chat" masks phone, userId (its hash key), contacts (a map keyed
// by e-mail addresses), meta.token (inside the JSON text of the expand
// path meta), pin and items.*.phone, and omits ssn and debug; every
// table masks *.email. Items whose sk begins with MSG# go to the logical
// table "messages", which masks body and omits ssn. Besides good records,
// the inputs hold records set aside for other reasons: a bad number
// elsewhere in the item, a bad number and an unknown type at masked
// paths, a bad value inside the masked map (its path names a hidden
// key), a bad table name, JSON that breaks after the masked field, a
// truncated export line, Kinesis data that is not JSON.
const PrivacyConfig = `defaults:
  mask: ["*.email"]
tables:
  chat:
    mask: [phone, userId, contacts, meta.token, pin, items.*.phone]
    omit: [ssn, debug]
    expand: [meta]
    routes:
      - {table: messages, attribute: sk, prefix: "MSG#"}
  messages:
    mask: [body]
    omit: [ssn]
`

// Values the privacy inputs hide. None may appear, whole or in part, in
// anything a run writes.
const (
	SecretPhone   = "PHONEzq7Xw9Pk1"
	SecretEmail   = "MAILq8rT2v@ex.com"
	SecretSSN     = "SSNv3nM8kQ21x"
	SecretDebug   = "DBGtrace9Hj2kL"
	SecretUserID  = "USRkey4Zp7Cv0"
	SecretToken   = "METAtok9hJ3kQ"
	SecretContact = "CNTmailW3e@x.io"
	SecretFriend  = "CNTvalR5t6Yu"
	SecretBody    = "BODYmsgN4m5B6"
	SecretPin     = "PINbad7U8i9O"
	SecretTag     = "TAGsecretA1s2D"
	SecretItem    = "ITEMphoneE3r4T"
)

// PrivacySecrets lists the hidden values.
func PrivacySecrets() []string {
	return []string{SecretPhone, SecretEmail, SecretSSN, SecretDebug, SecretUserID, SecretToken,
		SecretContact, SecretFriend, SecretBody, SecretPin, SecretTag, SecretItem}
}

// PrivacyVisible lists values of the same items that nothing hides: they
// must reach the lake, so that a run that wrote nothing cannot pass.
func PrivacyVisible() []string { return []string{"alice-visible", "hello-visible"} }

// PrivacyMasked lists the hidden values whose masks land in rows.
func PrivacyMasked() []string {
	return []string{SecretPhone, SecretEmail, SecretUserID, SecretToken, SecretBody, SecretItem}
}

func privacyKeys() string { return `{"userId":{"S":"` + SecretUserID + `"},"sk":{"S":"PROFILE"}}` }

// privacyItem is a chat item holding every hidden value; extra adds
// attributes (or replaces, when named the same, for the bad ones).
func privacyItem(extra string) string {
	attrs := []string{
		`"userId":{"S":"` + SecretUserID + `"}`,
		`"sk":{"S":"PROFILE"}`,
		`"name":{"S":"alice-visible"}`,
		`"phone":{"S":"` + SecretPhone + `"}`,
		`"ssn":{"S":"` + SecretSSN + `"}`,
		`"sender":{"M":{"email":{"S":"` + SecretEmail + `"},"nick":{"S":"al"}}}`,
		`"debug":{"M":{"trace":{"S":"` + SecretDebug + `"}}}`,
		`"contacts":{"M":{"` + SecretContact + `":{"S":"` + SecretFriend + `"}}}`,
		`"meta":{"S":"{\"token\":\"` + SecretToken + `\",\"client\":\"ios\"}"}`,
		`"items":{"L":[{"M":{"phone":{"S":"` + SecretItem + `"},"qty":{"N":"2"}}}]}`,
		`"n":{"N":"7"}`,
	}
	out := "{" + strings.Join(attrs, ",")
	if extra != "" {
		out += "," + extra
	}
	return out + "}"
}

// privacyMessage is a message item (routed to "messages").
func privacyMessage(extra string) string {
	out := `{"userId":{"S":"room-1"},"sk":{"S":"MSG#0001"},"text":{"S":"hello-visible"},"body":{"S":"` + SecretBody +
		`"},"ssn":{"S":"` + SecretSSN + `"},"sender":{"M":{"email":{"S":"` + SecretEmail + `"}}}`
	if extra != "" {
		out += "," + extra
	}
	return out + "}"
}

// privacyItems are the items of the inputs: good ones, then ones set
// aside for another reason than what they hide, or for a bad value at a
// hidden path.
func privacyItems() []string {
	return []string{
		privacyItem(""),
		privacyMessage(""),
		privacyItem(`"bad":{"N":"1.2.3"}`), // bad number elsewhere
		strings.Replace(privacyItem(""), `"n":{"N":"7"}`, `"pin":{"N":"`+SecretPin+`"}`, 1),                     // bad number at a masked path
		strings.Replace(privacyItem(""), `"phone":{"S":"`+SecretPhone+`"}`, `"phone":{"`+SecretTag+`":"x"}`, 1), // unknown type at a masked path
		strings.Replace(privacyItem(""), `{"S":"`+SecretFriend+`"}`, `{"N":"`+SecretFriend+`"}`, 1),             // bad value in the masked map
		privacyMessage(`"bad":{"N":"1.2.3"}`),
	}
}

func streamRecord(i int, arn, event, keys, image string) string {
	return fmt.Sprintf(`{"eventID":"e%d","eventName":"%s","eventVersion":"1.1","eventSource":"aws:dynamodb","awsRegion":"us-east-1",`+
		`"eventSourceARN":"%s","dynamodb":{"ApproximateCreationDateTime":1775001600,"Keys":%s,"NewImage":%s,"OldImage":%s,`+
		`"SequenceNumber":"%021d","SizeBytes":100,"StreamViewType":"NEW_AND_OLD_IMAGES"}}`, i, event, arn, keys, image, image, 100+i)
}

// PrivacyStreamRecords returns DynamoDB stream records (one JSON object
// each) of table "chat", the last ones bad in the ways listed above; two
// of them are not valid JSON.
func PrivacyStreamRecords() []string {
	arn := "arn:aws:dynamodb:us-east-1:123456789012:table/chat/stream/2026-04-01T00:00:00.000"
	var out []string
	for i, item := range privacyItems() {
		out = append(out, streamRecord(i, arn, "MODIFY", privacyKeys(), item))
	}
	n := len(out)
	out = append(out,
		streamRecord(n, "arn:aws:dynamodb:us-east-1:123456789012:table/bad name!/stream/x", "INSERT", privacyKeys(), privacyItem("")),
		// JSON that breaks after the masked field, and a closer missing.
		strings.Replace(streamRecord(n+1, arn, "INSERT", privacyKeys(), privacyItem("")), `"ssn":{"S"`, `"ssn":{"S";`, 1),
		strings.Replace(streamRecord(n+2, arn, "INSERT", privacyKeys(), privacyItem("")), `"}},"NewImage"`, `"},"NewImage"`, 1),
		strings.Replace(streamRecord(n+3, arn, "REMOVE", privacyKeys(), "null"), `"NewImage":null,"OldImage":null,`, ``, 1),
	)
	return out
}

// PrivacyLambdaEvent is a DynamoDB stream event of the records of
// PrivacyStreamRecords that are valid JSON (an event always is).
func PrivacyLambdaEvent() []byte {
	var recs []string
	for _, r := range PrivacyStreamRecords() {
		if json.Valid([]byte(r)) {
			recs = append(recs, r)
		}
	}
	return []byte(`{"Records":[` + strings.Join(recs, ",\n") + "]}")
}

// PrivacyKinesisEvent is a Kinesis event carrying the privacy items as
// DynamoDB-for-Kinesis records, the last one's data not valid JSON.
func PrivacyKinesisEvent() []byte {
	var recs []string
	datas := []string{}
	for i, item := range privacyItems() {
		datas = append(datas, fmt.Sprintf(`{"awsRegion":"us-east-1","eventID":"k%d","eventName":"MODIFY","recordFormat":"application/json",`+
			`"tableName":"chat","dynamodb":{"ApproximateCreationDateTime":%d,"Keys":%s,"NewImage":%s,"OldImage":%s,"SizeBytes":100},"eventSource":"aws:dynamodb"}`,
			i, 1775001600000+int64(i), privacyKeys(), item, item))
	}
	datas = append(datas, strings.Replace(datas[0], `"phone":{"S":"`+SecretPhone+`"},`, `"phone":{"S":"`+SecretPhone+`"} "ssn"`, 1))
	for i, d := range datas {
		recs = append(recs, fmt.Sprintf(`{"kinesis":{"kinesisSchemaVersion":"1.0","partitionKey":"p","sequenceNumber":"%056d",`+
			`"data":"%s","approximateArrivalTimestamp":1775001600.5},"eventSource":"aws:kinesis","eventVersion":"1.0",`+
			`"eventID":"shardId-000000000000:%056d","eventName":"aws:kinesis:record","invokeIdentityArn":"arn:aws:iam::123456789012:role/r",`+
			`"awsRegion":"us-east-1","eventSourceARN":"arn:aws:kinesis:us-east-1:123456789012:stream/chat"}`,
			4959+i, base64.StdEncoding.EncodeToString([]byte(d)), 4959+i))
	}
	return []byte(`{"Records":[` + strings.Join(recs, ",\n") + "]}")
}

// PrivacyExportLines are full-export data lines ({"Item":...}) of the
// items, the last one truncated after the masked field.
func PrivacyExportLines() string {
	var b strings.Builder
	for _, item := range privacyItems() {
		b.WriteString(`{"Item":` + item + "}\n")
	}
	full := `{"Item":` + privacyItem("") + "}"
	b.WriteString(full[:strings.Index(full, SecretPhone)+len(SecretPhone)+5] + "\n")
	return b.String()
}

// PrivacyIncrementalLines are incremental-export lines of the items.
func PrivacyIncrementalLines() string {
	var b strings.Builder
	for i, item := range privacyItems() {
		fmt.Fprintf(&b, `{"Metadata":{"WriteTimestampMicros":{"N":"%d"}},"Keys":%s,"NewImage":%s,"OldImage":%s}`+"\n",
			1775001600000000+int64(i), privacyKeys(), item, item)
	}
	return b.String()
}

// WritePrivacyInputs writes the privacy inputs into dir, as files a replay
// of table "chat" (--table chat) reads: stream.jsonl, lambda.json,
// kinesis.json, export-data.json and incremental-data.json.
func WritePrivacyInputs(t testing.TB, dir string) {
	t.Helper()
	files := map[string]string{
		"stream.jsonl":          strings.Join(PrivacyStreamRecords(), "\n") + "\n",
		"lambda.json":           string(PrivacyLambdaEvent()),
		"kinesis.json":          string(PrivacyKinesisEvent()),
		"export-data.json":      PrivacyExportLines(),
		"incremental-data.json": PrivacyIncrementalLines(),
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// RequireHidden reads every file under dir, hidden ones included (Parquet
// files decoded value by value as well as read as bytes, gzip files
// decompressed, base64 strings decoded), and the texts given (standard
// output and error, log lines), and fails t when any 8 bytes in a row of
// a secret appear in any of them. It returns everything it read, as
// text, for further checks.
func RequireHidden(t testing.TB, dir string, secrets []string, texts ...string) string {
	t.Helper()
	var all []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		all = append(all, p+"\n"+string(body))
		if strings.HasSuffix(p, ".parquet") || bytes.HasPrefix(body, []byte("PAR1")) {
			all = append(all, p+" (decoded)\n"+parquetText(t, body))
		}
		if bytes.HasPrefix(body, []byte{0x1f, 0x8b}) {
			if zr, err := gzip.NewReader(bytes.NewReader(body)); err == nil {
				if b, err := io.ReadAll(zr); err == nil {
					all = append(all, p+" (gunzipped)\n"+string(b))
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walking %s: %v", dir, err)
	}
	for i, s := range texts {
		all = append(all, fmt.Sprintf("text %d\n%s", i, s))
	}
	var decoded []string
	for _, text := range all {
		decoded = append(decoded, base64Texts(text)...)
	}
	all = append(all, decoded...)
	for _, text := range all {
		for _, s := range secrets {
			for i := 0; i+8 <= len(s); i++ {
				if j := strings.Index(text, s[i:i+8]); j >= 0 {
					name, _, _ := strings.Cut(text, "\n")
					from := max(0, j-200)
					t.Fatalf("%q of the hidden value %q is in %s:\n...%s...", s[i:i+8], s, name, text[from:min(len(text), j+200)])
				}
			}
		}
	}
	return strings.Join(all, "\n")
}

var base64Run = regexp.MustCompile(`[A-Za-z0-9+/]{24,}={0,2}`)

// base64Texts decodes every long base64 run in text (Kinesis data, JSON
// of binary values), recursively.
func base64Texts(text string) []string {
	var out []string
	for _, m := range base64Run.FindAllString(text, -1) {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding} {
			if b, err := enc.DecodeString(m); err == nil {
				out = append(out, "base64\n"+string(b))
				out = append(out, base64Texts(string(b))...)
				break
			}
		}
	}
	return out
}

// parquetText renders every value of a Parquet file, and its key-value
// metadata and statistics, as text.
func parquetText(t testing.TB, body []byte) string {
	t.Helper()
	f, err := parquet.OpenFile(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatalf("reading Parquet: %v", err)
	}
	var b strings.Builder
	for _, kv := range f.Metadata().KeyValueMetadata {
		b.WriteString(kv.Key + "=" + kv.Value + "\n")
	}
	for _, rg := range f.Metadata().RowGroups {
		for _, c := range rg.Columns {
			st := c.MetaData.Statistics
			b.Write(st.MinValue)
			b.Write(st.MaxValue)
			b.Write(st.Min)
			b.Write(st.Max)
			b.WriteByte('\n')
		}
	}
	r := parquet.NewReader(bytes.NewReader(body))
	defer r.Close()
	rows := make([]parquet.Row, 64)
	for {
		n, err := r.ReadRows(rows)
		for _, row := range rows[:n] {
			for _, v := range row {
				if v.Kind() == parquet.ByteArray || v.Kind() == parquet.FixedLenByteArray {
					b.Write(v.ByteArray())
				} else {
					b.WriteString(v.String())
				}
				b.WriteByte('\t')
			}
			b.WriteByte('\n')
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("reading Parquet rows: %v", err)
		}
	}
	return b.String()
}

// QuarantineLines reads every quarantine line under dir/_errors, with
// "_file" set to the file's path relative to dir.
func QuarantineLines(t testing.TB, dir string) []map[string]any {
	t.Helper()
	var out []map[string]any
	_ = filepath.WalkDir(filepath.Join(dir, "_errors"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".jsonl") {
			return nil
		}
		body, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(body)), "\n") {
			if line == "" {
				continue
			}
			var m map[string]any
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			rel, _ := filepath.Rel(dir, p)
			m["_file"] = filepath.ToSlash(rel)
			out = append(out, m)
		}
		return nil
	})
	return out
}
