package decode

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ddblake/ddblake/pipeline/ionexport"
)

// update rewrites golden files and the generated fixtures (Kinesis events,
// gzip files and export directories under testdata/inputs).
var update = flag.Bool("update", false, "rewrite golden files and generated input fixtures")

// inputsDir holds the input fixtures.
const inputsDir = "../../testdata/inputs"

func TestMain(m *testing.M) {
	flag.Parse()
	if *update {
		if err := generateFixtures(inputsDir); err != nil {
			fmt.Fprintln(os.Stderr, "generating fixtures:", err)
			os.Exit(1)
		}
	}
	os.Exit(m.Run())
}

// generateFixtures writes the fixtures that cannot be written by hand:
// Kinesis events (base64 data), gzip files, and export directories whose
// manifests carry the MD5s of their data files.
func generateFixtures(dir string) error {
	if err := genKinesis(dir); err != nil {
		return err
	}
	if err := genGzip(dir); err != nil {
		return err
	}
	if err := genExports(dir); err != nil {
		return err
	}
	return genIncremental(dir)
}

// gzipBytes compresses b deterministically (no name, no time).
func gzipBytes(b []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	_, _ = zw.Write(b)
	_ = zw.Close()
	return buf.Bytes()
}

func writeFile(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

func readLines(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) != "" {
			out = append(out, sc.Text())
		}
	}
	return out, sc.Err()
}

// genKinesis wraps each DynamoDB-for-Kinesis record of kinesis/data/*.jsonl
// in a Kinesis event record, as Lambda delivers them.
func genKinesis(dir string) error {
	for _, name := range []string{"chat_ms", "chat_us", "bad"} {
		lines, err := readLines(filepath.Join(dir, "kinesis", "data", name+".jsonl"))
		if err != nil {
			return err
		}
		var recs []string
		for i, l := range lines {
			seq := fmt.Sprintf("4959033827149025660855969253836157109592157598913658%04d", 8898+i)
			sum := md5.Sum([]byte(l))
			data := base64.StdEncoding.EncodeToString([]byte(l))
			if name == "bad" && i == 3 {
				data = "eyJub3QiOiJiYXNlNjQ*!!" // not base64
			}
			recs = append(recs, fmt.Sprintf(`    {
      "kinesis": {
        "kinesisSchemaVersion": "1.0",
        "partitionKey": "%s",
        "sequenceNumber": "%s",
        "data": "%s",
        "approximateArrivalTimestamp": %d.%03d
      },
      "eventSource": "aws:kinesis",
      "eventVersion": "1.0",
      "eventID": "shardId-000000000006:%s",
      "eventName": "aws:kinesis:record",
      "invokeIdentityArn": "arn:aws:iam::123456789012:role/ddblake-lambda",
      "awsRegion": "ap-northeast-2",
      "eventSourceARN": "arn:aws:kinesis:ap-northeast-2:123456789012:stream/chat-cdc"
    }`, strings.ToUpper(hex.EncodeToString(sum[:])), seq, data, 1775008801+i, 123*i%1000, seq))
		}
		doc := "{\n  \"Records\": [\n" + strings.Join(recs, ",\n") + "\n  ]\n}\n"
		if err := writeFile(filepath.Join(dir, "kinesis", name+".json"), []byte(doc)); err != nil {
			return err
		}
	}
	return nil
}

// genGzip writes gzip copies of stream.jsonl (with and without a .gz
// name) and corrupt gzip files.
func genGzip(dir string) error {
	plain, err := os.ReadFile(filepath.Join(dir, "jsonl", "stream.jsonl"))
	if err != nil {
		return err
	}
	gz := gzipBytes(plain)
	if err := writeFile(filepath.Join(dir, "jsonl", "stream.jsonl.gz"), gz); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(dir, "jsonl", "stream_gzip.data"), gz); err != nil {
		return err
	}
	// Many distinct lines, so that the corruption falls well after the
	// first lines.
	var many bytes.Buffer
	for i := 0; i < 80; i++ {
		fmt.Fprintf(&many, `{"eventID":"%032x","eventName":"INSERT","eventVersion":"1.1","eventSource":"aws:dynamodb","awsRegion":"ap-northeast-2","dynamodb":{"ApproximateCreationDateTime":%d,"Keys":{"roomId":{"S":"room-%04x"},"sk":{"S":"MSG#%06d"}},"NewImage":{"roomId":{"S":"room-%04x"},"sk":{"S":"MSG#%06d"},"body":{"S":"메시지 번호 %d: %x"},"seq":{"N":"%d"}},"SequenceNumber":"5500000000000%08d","SizeBytes":120,"StreamViewType":"NEW_IMAGE"},"eventSourceARN":"arn:aws:dynamodb:ap-northeast-2:123456789012:table/chat-messages/stream/2026-03-01T00:00:00.000"}`+"\n",
			md5.Sum([]byte{byte(i), byte(i >> 8)}), 1775001600+i, i*7919%65536, i, i*7919%65536, i, i, md5.Sum([]byte{byte(i)}), i, i)
	}
	zmany := gzipBytes(many.Bytes())
	if err := writeFile(filepath.Join(dir, "jsonl", "corrupt_truncated.jsonl.gz"), zmany[:len(zmany)*6/10]); err != nil {
		return err
	}
	flipped := bytes.Clone(zmany)
	for i := len(flipped) / 2; i < len(flipped)/2+16; i++ {
		flipped[i] ^= 0xA5
	}
	return writeFile(filepath.Join(dir, "jsonl", "corrupt_flipped.jsonl.gz"), flipped)
}

// fxAV builds DynamoDB JSON values for the export items.
type fxAV = map[string]any

func fxS(v string) fxAV     { return fxAV{"S": v} }
func fxN(v string) fxAV     { return fxAV{"N": v} }
func fxM(v fxAV) fxAV       { return fxAV{"M": v} }
func fxL(v ...any) fxAV     { return fxAV{"L": v} }
func fxSS(v ...string) fxAV { return fxAV{"SS": v} }

var (
	fxNames  = []string{"김민지", "이도윤", "박서준", "최유나", "정하늘", "Alex Kim", "강지우", "윤서아"}
	fxBodies = []string{"안녕하세요 👋", "회의 자료 공유드립니다", "점심 뭐 먹을까요?", "PR 리뷰 부탁드려요", "배포 완료!", "내일 휴가입니다", "좋아요 👍", "확인했습니다"}
)

// chatItem is one realistic chat message item.
func chatItem(room, i int) fxAV {
	u := i % len(fxNames)
	it := fxAV{
		"roomId":    fxS(fmt.Sprintf("room-%04x", room)),
		"sk":        fxS(fmt.Sprintf("MSG#2026-03-%02dT%02d:%02d:00.000Z#%04d", 1+i%28, i%24, i%60, i)),
		"messageId": fxS(fmt.Sprintf("01JQ%022X", i*104729)),
		"body":      fxS(fxBodies[i%len(fxBodies)]),
		"sender": fxM(fxAV{
			"userId": fxS(fmt.Sprintf("u-%04d", 1000+u)),
			"profile": fxM(fxAV{
				"displayName": fxS(fxNames[u]),
				"locale":      fxS("ko-KR"),
				"imageUrl":    fxS(fmt.Sprintf("https://cdn.example.com/avatars/u-%04d.png", 1000+u)),
			}),
		}),
		"readBy":    fxSS(fmt.Sprintf("u-%04d", 1000+u), fmt.Sprintf("u-%04d", 1000+(u+1)%len(fxNames))),
		"seq":       fxN(fmt.Sprint(i)),
		"createdAt": fxN(fmt.Sprint(int64(1772323200000) + int64(i)*61000)),
	}
	if i%3 == 0 {
		it["attachments"] = fxL(
			fxM(fxAV{"name": fxS(fmt.Sprintf("사진-%d.jpg", i)), "mime": fxS("image/jpeg"), "size": fxN(fmt.Sprint(100000 + i*17))}),
			fxM(fxAV{"name": fxS("notes.txt"), "mime": fxS("text/plain"), "size": fxN("512")}),
		)
	}
	if i%4 == 1 {
		it["reactions"] = fxM(fxAV{"👍": fxN("3"), "❤️": fxN("1")})
	}
	if i%5 == 2 {
		it["editedAt"] = fxAV{"NULL": true}
		it["pinned"] = fxAV{"BOOL": true}
	}
	return it
}

// exportLayout is one generated export directory.
type exportLayout struct {
	dir, id     string
	summary     fxAV
	files       []exportData
	keyPrefix   string // prefix of dataFileS3Key before AWSDynamoDB/
	breakMD5    int    // index of the file whose listed MD5 is wrong (-1)
	breakCount  int    // index of the file whose listed count is wrong (-1)
	omitFile    int    // index of the file left out of the directory (-1)
	corruptFile int    // index of the file truncated mid-gzip (-1)
}

type exportData struct {
	name  string
	lines []string
	enc   dataEncoding
}

// dataEncoding is how a fixture data file holds its lines.
type dataEncoding uint8

const (
	encJSON        dataEncoding = iota // the JSON lines
	encIonText                         // the lines' items as DynamoDB writes text Ion
	encIonBinary                       // the lines' items as binary Ion
	encIonVerbatim                     // the lines are Ion text, written as they are
)

// encode returns the (uncompressed) content of a fixture data file.
func (f exportData) encode() ([]byte, error) {
	raw := []byte(strings.Join(f.lines, "\n") + "\n")
	if f.enc == encJSON || f.enc == encIonVerbatim {
		return raw, nil
	}
	var buf bytes.Buffer
	w := ionexport.NewTextWriter(&buf)
	if f.enc == encIonBinary {
		w = ionexport.NewBinaryWriter(&buf)
	}
	for _, l := range f.lines {
		if err := w.WriteLine([]byte(l)); err != nil {
			return nil, fmt.Errorf("%s: %w", f.name, err)
		}
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// asIon returns files with their items in Ion (enc), named .ion.gz.
func asIon(files []exportData, enc dataEncoding) []exportData {
	out := make([]exportData, len(files))
	for i, f := range files {
		out[i] = exportData{strings.TrimSuffix(f.name, ".json.gz") + ".ion.gz", f.lines, enc}
	}
	return out
}

func writeExport(e exportLayout) error {
	root := filepath.Join(e.dir, "AWSDynamoDB", e.id)
	if err := os.RemoveAll(e.dir); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(e.dir, "AWSDynamoDB", "_started"), nil); err != nil {
		return err
	}
	var manifest bytes.Buffer
	total := 0
	for i, f := range e.files {
		data, err := f.encode()
		if err != nil {
			return err
		}
		body := gzipBytes(data)
		if i == e.corruptFile {
			body = body[:len(body)*2/3]
		}
		sum := md5.Sum(body)
		listedSum := base64.StdEncoding.EncodeToString(sum[:])
		if i == e.breakMD5 {
			other := md5.Sum(append(body, 0))
			listedSum = base64.StdEncoding.EncodeToString(other[:])
		}
		count := len(f.lines)
		if f.enc == encIonVerbatim {
			n, _ := ionexport.Count(bytes.NewReader(data), 0)
			count = int(n) // the items written whole
		}
		total += count
		if i == e.breakCount {
			count++
		}
		if i != e.omitFile {
			if err := writeFile(filepath.Join(root, "data", f.name), body); err != nil {
				return err
			}
		}
		line, _ := json.Marshal(struct {
			ItemCount     int    `json:"itemCount"`
			MD5Checksum   string `json:"md5Checksum"`
			ETag          string `json:"etag"`
			DataFileS3Key string `json:"dataFileS3Key"`
		}{count, listedSum, hex.EncodeToString(sum[:]), e.keyPrefix + "AWSDynamoDB/" + e.id + "/data/" + f.name})
		manifest.Write(line)
		manifest.WriteByte('\n')
	}
	e.summary["itemCount"] = total
	e.summary["manifestFilesS3Key"] = e.keyPrefix + "AWSDynamoDB/" + e.id + "/manifest-files.json"
	summary, _ := json.MarshalIndent(e.summary, "", "  ")
	for name, b := range map[string][]byte{"manifest-summary.json": summary, "manifest-files.json": manifest.Bytes()} {
		if err := writeFile(filepath.Join(root, name), b); err != nil {
			return err
		}
		sum := md5.Sum(b)
		if err := writeFile(filepath.Join(root, strings.TrimSuffix(name, ".json")+".md5"), []byte(hex.EncodeToString(sum[:]))); err != nil {
			return err
		}
	}
	return nil
}

func itemLines(room, from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		b, _ := json.Marshal(fxAV{"Item": chatItem(room, i)})
		out = append(out, string(b))
	}
	return out
}

func fullSummary(id, tableArn, format string) fxAV {
	return fxAV{
		"version":         "2020-06-30",
		"exportArn":       "arn:aws:dynamodb:ap-northeast-2:123456789012:table/chat-messages/export/" + id,
		"startTime":       "2026-04-01T00:00:00.123Z",
		"endTime":         "2026-04-01T00:07:31.456Z",
		"tableArn":        tableArn,
		"tableId":         "8f1c2d3e-4a5b-6c7d-8e9f-0a1b2c3d4e5f",
		"exportTime":      "2026-04-01T00:00:00Z",
		"s3Bucket":        "chat-lake-exports",
		"s3Prefix":        "exports",
		"s3SseAlgorithm":  "AES256",
		"s3SseKmsKeyId":   nil,
		"billedSizeBytes": 24576,
		"outputFormat":    format,
	}
}

// genExports writes full exports: a good one and one per failure.
func genExports(dir string) error {
	const id = "01775001600000-a1b2c3d4"
	arn := "arn:aws:dynamodb:ap-northeast-2:123456789012:table/chat-messages"
	files := []exportData{
		{"xyz3fxa5rm3hplhyqvxlrmfxtm.json.gz", itemLines(0x7f3a, 0, 5), encJSON},
		{"q4n6zb2kwe5dtlsyc7xh3ujvpa.json.gz", itemLines(0xb210, 5, 9), encJSON},
		{"mfj2oyd5vkxlr7e3i4hgtwcbsa.json.gz", itemLines(0xc3d4, 9, 12), encJSON},
	}
	cases := []struct {
		name  string
		arn   string
		fmt   string
		tweak func(*exportLayout)
	}{
		{"full", arn, "DYNAMODB_JSON", nil},
		{"bad_md5", arn, "DYNAMODB_JSON", func(e *exportLayout) { e.breakMD5 = 1 }},
		{"bad_count", arn, "DYNAMODB_JSON", func(e *exportLayout) { e.breakCount = 0 }},
		{"missing_file", arn, "DYNAMODB_JSON", func(e *exportLayout) { e.omitFile = 2 }},
		{"corrupt_gzip", arn, "DYNAMODB_JSON", func(e *exportLayout) { e.corruptFile = 1 }},
		{"ion", arn, "ION", func(e *exportLayout) { e.files = asIon(e.files, encIonText) }},
		{"ion_binary", arn, "ION", func(e *exportLayout) { e.files = asIon(e.files, encIonBinary) }},
		{"ion_bad_md5", arn, "ION", func(e *exportLayout) { e.files, e.breakMD5 = asIon(e.files, encIonText), 1 }},
		{"ion_bad_count", arn, "ION", func(e *exportLayout) { e.files, e.breakCount = asIon(e.files, encIonText), 0 }},
		{"ion_bad", arn, "ION", func(e *exportLayout) { e.files = badIonFiles() }},
		{"bad_table", "arn:aws:dynamodb:ap-northeast-2:123456789012:table/../../etc", "DYNAMODB_JSON", nil},
	}
	for _, c := range cases {
		e := exportLayout{
			dir: filepath.Join(dir, "export", c.name), id: id,
			summary: fullSummary(id, c.arn, c.fmt), files: files, keyPrefix: "exports/",
			breakMD5: -1, breakCount: -1, omitFile: -1, corruptFile: -1,
		}
		if c.name == "corrupt_gzip" {
			// Enough items that the break falls after some of them.
			e.files = []exportData{files[0], {"k7w2pq9xzt4rmb6nd3cyv5ehaf.json.gz", itemLines(0xd00d, 100, 160), encJSON}}
		}
		if c.tweak != nil {
			c.tweak(&e)
		}
		if err := writeExport(e); err != nil {
			return err
		}
	}
	return nil
}

// badIonFiles are the data files of an ION export with items DynamoDB
// cannot hold, between good ones, and a file cut short in an item.
func badIonFiles() []exportData {
	good := func(room, i int) string {
		var b bytes.Buffer
		w := ionexport.NewTextWriter(&b)
		line, _ := json.Marshal(fxAV{"Item": chatItem(room, i)})
		if err := w.WriteLine(line); err != nil {
			panic(err)
		}
		return strings.TrimSuffix(b.String(), "\n")
	}
	return []exportData{
		{"b6dn2lq7xk4hy5vezr3ctmwa9f.ion.gz", []string{
			good(0x7f3a, 0),
			`$ion_1_0 {Item:{roomId:"room-7f3a",sk:"MSG#1",price:1.5e0}}`,
			`$ion_1_0 {Item:{roomId:"room-7f3a",sk:"MSG#2",sentAt:2026-04-01T00:00:00Z}}`,
			`$ion_1_0 {Item:{roomId:"room-7f3a",sk:"MSG#3",status:active}}`,
			`$ion_1_0 {Item:{roomId:"room-7f3a",sk:"MSG#4",tags:$dynamodb_XS::["a"]}}`,
			good(0x7f3a, 1),
		}, encIonVerbatim},
		{"t3ks8wq2vf6bn4mzo7lhx5yrje.ion.gz", []string{
			good(0xb210, 5),
			`$ion_1_0 {Item:{roomId:"room-b210",sk:"MSG#6",body:"cut sh`,
		}, encIonVerbatim},
	}
}

// genIncremental writes an incremental export whose lines spell
// WriteTimestampMicros in all three ways.
func genIncremental(dir string) error {
	const id = "01775088000000-e5f6a7b8"
	key := func(room, i int) fxAV {
		it := chatItem(room, i)
		return fxAV{"roomId": it["roomId"], "sk": it["sk"]}
	}
	line := func(ts any, keys, newImg, oldImg fxAV) string {
		v := fxAV{"Metadata": fxAV{"WriteTimestampMicros": ts}, "Keys": keys}
		if newImg != nil {
			v["NewImage"] = newImg
		}
		if oldImg != nil {
			v["OldImage"] = oldImg
		}
		b, _ := json.Marshal(v)
		return string(b)
	}
	edited := chatItem(0x7f3a, 1)
	edited["body"] = fxS("수정된 메시지입니다")
	edited["readBy"] = fxSS("u-1001", "u-1002", "u-1003")
	files := []exportData{
		{"3pzr5kq2ha7xwn6dfbmlvtcyue.json.gz", []string{
			line(fxAV{"N": "1775001600123456"}, key(0x7f3a, 20), chatItem(0x7f3a, 20), nil),
			line("1775001700000001", key(0x7f3a, 1), edited, chatItem(0x7f3a, 1)),
			line(json.Number("1775001800999999"), key(0x7f3a, 2), nil, chatItem(0x7f3a, 2)),
		}, encJSON},
		{"w8c4je6tnb2xqo9ymrz5ladfkg.json.gz", []string{
			line(fxAV{"N": "1775002000000000"}, key(0xb210, 21), chatItem(0xb210, 21), nil),
			line(fxAV{"N": "1775002100500000"}, key(0xb210, 3), nil, nil),
		}, encJSON},
	}
	summary := func(format string) fxAV {
		return fxAV{
			"version":         "2023-08-01",
			"exportArn":       "arn:aws:dynamodb:ap-northeast-2:123456789012:table/chat-messages/export/" + id,
			"startTime":       "2026-04-02T00:00:00.000Z",
			"endTime":         "2026-04-02T00:04:12.000Z",
			"tableArn":        "arn:aws:dynamodb:ap-northeast-2:123456789012:table/chat-messages",
			"tableId":         "8f1c2d3e-4a5b-6c7d-8e9f-0a1b2c3d4e5f",
			"exportFromTime":  "2026-04-01T00:00:00Z",
			"exportToTime":    "2026-04-02T00:00:00Z",
			"s3Bucket":        "chat-lake-exports",
			"s3Prefix":        nil,
			"s3SseAlgorithm":  "AES256",
			"s3SseKmsKeyId":   nil,
			"billedSizeBytes": 8192,
			"outputFormat":    format,
			"outputView":      "NEW_AND_OLD_IMAGES",
			"exportType":      "INCREMENTAL_EXPORT",
		}
	}
	if err := writeExport(exportLayout{
		dir: filepath.Join(dir, "incremental", "chat"), id: id, summary: summary("DYNAMODB_JSON"),
		files: files, breakMD5: -1, breakCount: -1, omitFile: -1, corruptFile: -1,
	}); err != nil {
		return err
	}
	return writeExport(exportLayout{
		dir: filepath.Join(dir, "incremental", "chat_ion"), id: id, summary: summary("ION"),
		files: asIon(files, encIonText), breakMD5: -1, breakCount: -1, omitFile: -1, corruptFile: -1,
	})
}
