package decode

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"math/rand"
	"runtime"
	"strings"
	"testing"

	"github.com/valyala/fastjson"
)

// benchMessage appends a realistic chat message item as DynamoDB JSON.
func benchMessage(b *strings.Builder, rng *rand.Rand, room, i int, edited bool) {
	u := rng.Intn(len(fxNames))
	fmt.Fprintf(b, `{"roomId":{"S":"room-%04x"},"sk":{"S":"MSG#2026-04-01T%02d:%02d:%02d.%03dZ#%06d"},"messageId":{"S":"01JQ%022X"},`,
		room, i/3600%24, i/60%60, i%60, rng.Intn(1000), i, rng.Int63())
	body := fxBodies[rng.Intn(len(fxBodies))]
	if edited {
		body += " (수정됨)"
	}
	fmt.Fprintf(b, `"body":{"S":"%s %s"},`, body, strings.Repeat("오늘 회의 내용을 정리했습니다. ", 1+rng.Intn(4)))
	fmt.Fprintf(b, `"sender":{"M":{"userId":{"S":"u-%04d"},"profile":{"M":{"displayName":{"S":"%s"},"imageUrl":{"S":"https://cdn.example.com/avatars/u-%04d.png"},"locale":{"S":"ko-KR"},"verified":{"BOOL":%t},"badges":{"SS":["early-adopter","moderator"]}}}}},`,
		1000+u, fxNames[u], 1000+u, u%2 == 0)
	b.WriteString(`"attachments":{"L":[`)
	for a := 0; a < 1+rng.Intn(3); a++ {
		if a > 0 {
			b.WriteByte(',')
		}
		thumb := make([]byte, 24)
		rng.Read(thumb)
		fmt.Fprintf(b, `{"M":{"name":{"S":"사진-%d.jpg"},"mime":{"S":"image/jpeg"},"size":{"N":"%d"},"width":{"N":"%d"},"height":{"N":"%d"},"thumbnail":{"B":"%s"}}}`,
			a, 10000+rng.Intn(5000000), 640+rng.Intn(3000), 480+rng.Intn(2000), base64.StdEncoding.EncodeToString(thumb))
	}
	b.WriteString(`]},"readBy":{"SS":[`)
	for r := 0; r < 3+rng.Intn(12); r++ {
		if r > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(b, `"u-%04d"`, 1000+r)
	}
	fmt.Fprintf(b, `]},"reactions":{"M":{"👍":{"N":"%d"},"❤️":{"N":"%d"},"감사":{"N":"%d"}}},"mentions":{"L":[{"S":"u-%04d"},{"S":"u-%04d"}]},`,
		rng.Intn(20), rng.Intn(5), rng.Intn(3), 1000+rng.Intn(8), 1000+rng.Intn(8))
	fmt.Fprintf(b, `"seq":{"N":"%d"},"createdAt":{"N":"%d"},"score":{"N":"%d.%02d"},`, i, 1775001600000+int64(i)*1000, rng.Intn(100), rng.Intn(100))
	if edited {
		fmt.Fprintf(b, `"editedAt":{"N":"%d"},`, 1775001600+i)
	} else {
		b.WriteString(`"editedAt":{"NULL":true},`)
	}
	fmt.Fprintf(b, `"pinned":{"BOOL":%t},"client":{"M":{"platform":{"S":"ios"},"appVersion":{"S":"5.12.%d"},"ip":{"S":"203.0.113.%d"}}}}`,
		rng.Intn(10) == 0, rng.Intn(9), rng.Intn(255))
}

// benchRecords returns n stream records (Records[] elements) of chat
// messages, mostly MODIFY with both images, as a NEW_AND_OLD_IMAGES
// stream delivers them, until they reach size bytes.
func benchRecords(size int) []string {
	rng := rand.New(rand.NewSource(42))
	var out []string
	total := 0
	for i := 0; total < size; i++ {
		var b strings.Builder
		room := rng.Intn(64)
		name := [...]string{EventInsert, EventModify, EventModify, EventModify, EventRemove}[i%5]
		fmt.Fprintf(&b, `{"eventID":"%032x","eventName":"%s","eventVersion":"1.1","eventSource":"aws:dynamodb","awsRegion":"ap-northeast-2","dynamodb":{"ApproximateCreationDateTime":%d,`,
			rng.Uint64(), name, 1775001600+i)
		fmt.Fprintf(&b, `"Keys":{"roomId":{"S":"room-%04x"},"sk":{"S":"MSG#%06d"}},`, room, i)
		if name != EventRemove {
			b.WriteString(`"NewImage":`)
			benchMessage(&b, rng, room, i, name == EventModify)
			b.WriteByte(',')
		}
		if name != EventInsert {
			b.WriteString(`"OldImage":`)
			benchMessage(&b, rng, room, i, false)
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"SequenceNumber":"%d%020d","SizeBytes":%d,"StreamViewType":"NEW_AND_OLD_IMAGES"},"eventSourceARN":"arn:aws:dynamodb:ap-northeast-2:123456789012:table/chat-messages/stream/2026-03-01T00:00:00.000"}`,
			1112, i, 2000)
		out = append(out, b.String())
		total += b.Len() + 1
	}
	return out
}

// lambdaMaxPayload is Lambda's limit on a synchronous event.
const lambdaMaxPayload = 6 << 20

// BenchmarkDecodeLambda measures DecodeEvent on a payload of Lambda's
// largest size: on one goroutine, on one per CPU (the records shared
// among them), and with the parser path alone, which the one-pass path
// replaces for every record it can read.
func BenchmarkDecodeLambda(b *testing.B) {
	recs := benchRecords(lambdaMaxPayload - 64)
	payload := []byte(`{"Records":[` + strings.Join(recs, ",") + `]}`)
	for _, c := range []struct {
		name       string
		workers    int
		parserOnly bool
	}{{"workers=1", 1, false}, {fmt.Sprintf("workers=%d", runtime.NumCPU()), runtime.NumCPU(), false}, {"parser", 1, true}} {
		b.Run(c.name, func(b *testing.B) {
			d, err := NewDecoder(Options{Workers: c.workers})
			if err != nil {
				b.Fatal(err)
			}
			d.parserOnly = c.parserOnly
			n := 0
			fn := func(rec *ChangeRecord, rerr *RecordError) error {
				if rerr != nil {
					return rerr
				}
				n++
				return nil
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(payload)))
			b.ResetTimer()
			cpu := cpuSeconds()
			for i := 0; i < b.N; i++ {
				if err := d.DecodeEvent(payload, "event", fn); err != nil {
					b.Fatal(err)
				}
			}
			reportCPU(b, cpu, int64(len(payload)))
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
			b.ReportMetric(float64(len(recs)), "records/event")
		})
	}
}

// reportCPU reports the MB decoded per CPU second used since cpu (all
// threads, the garbage collector's included).
func reportCPU(b *testing.B, cpu float64, size int64) {
	if used := cpuSeconds() - cpu; cpu > 0 && used > 0 {
		b.ReportMetric(float64(size)*float64(b.N)/1e6/used, "MB/cpu-s")
	}
}

// BenchmarkDecodeLambdaStages measures the stages of DecodeEvent on the
// same payload: finding the records' bytes, parsing them as JSON, and the
// whole decoding (with the attribute values).
func BenchmarkDecodeLambdaStages(b *testing.B) {
	payload := []byte(`{"Records":[` + strings.Join(benchRecords(lambdaMaxPayload-64), ",") + `]}`)
	b.Run("scan", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(payload)))
		cpu := cpuSeconds()
		for i := 0; i < b.N; i++ {
			s := docScanner{buf: payload, pos: 1}
			if key, ok := s.nextKey(); !ok || key != "Records" || s.expect('[') != nil {
				b.Fatal("not an event")
			}
			for s.skipValue() == nil {
				if s.expect(',') != nil {
					break
				}
			}
		}
		reportCPU(b, cpu, int64(len(payload)))
	})
	b.Run("scan+json", func(b *testing.B) {
		var p fastjson.Parser
		b.ReportAllocs()
		b.SetBytes(int64(len(payload)))
		cpu := cpuSeconds()
		for i := 0; i < b.N; i++ {
			s := docScanner{buf: payload, pos: 1}
			if key, ok := s.nextKey(); !ok || key != "Records" || s.expect('[') != nil {
				b.Fatal("not an event")
			}
			for {
				start := s.pos
				if s.skipValue() != nil {
					break
				}
				if _, err := p.ParseBytes(payload[start:s.pos]); err != nil {
					b.Fatal(err)
				}
				if s.expect(',') != nil {
					break
				}
			}
		}
		reportCPU(b, cpu, int64(len(payload)))
	})
}

func BenchmarkDecodeJSONL(b *testing.B) {
	lines := []byte(strings.Join(benchRecords(lambdaMaxPayload), "\n") + "\n")
	for _, c := range []struct {
		name string
		data []byte
	}{{"plain", lines}, {"gzip", gzipBytes(lines)}} {
		b.Run(c.name, func(b *testing.B) {
			d, err := NewDecoder(Options{})
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			fn := func(rec *ChangeRecord, rerr *RecordError) error {
				if rerr != nil {
					return rerr
				}
				n++
				return nil
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(lines))) // decompressed bytes
			b.ResetTimer()
			cpu := cpuSeconds()
			for i := 0; i < b.N; i++ {
				if err := d.Decode(context.Background(), bytes.NewReader(c.data), "bench.jsonl", FormatJSONL, fn); err != nil {
					b.Fatal(err)
				}
			}
			reportCPU(b, cpu, int64(len(lines)))
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// TestBenchRecordsDecode checks that the benchmark's records are valid, so
// that the benchmark measures the path good records take.
func TestBenchRecordsDecode(t *testing.T) {
	recs := benchRecords(64 << 10)
	c := decodeEvent(t, []byte(`{"Records":[`+strings.Join(recs, ",")+`]}`))
	if c.err != nil || len(c.errs) > 0 || len(c.recs) != len(recs) {
		t.Fatalf("err %v, record errors %v, %d of %d records", c.err, c.errs, len(c.recs), len(recs))
	}
}

// BenchmarkDecodeStream measures Decode of inputs read as streams (a
// file of Lambda events, a JSON-lines file), whose records keep the
// chunks they were read in rather than copies of their bytes. Each
// record is kept until the end of its input, as a replay's batch keeps
// its records until they are written.
func BenchmarkDecodeStream(b *testing.B) {
	recs := benchRecords(lambdaMaxPayload - 64)
	for _, c := range []struct {
		name   string
		format Format
		data   []byte
	}{
		{"lambda", FormatLambda, []byte(`{"Records":[` + strings.Join(recs, ",") + `]}`)},
		{"jsonl", FormatJSONL, []byte(strings.Join(recs, "\n") + "\n")},
	} {
		b.Run(c.name, func(b *testing.B) {
			d, err := NewDecoder(Options{UnusedOldImages: true})
			if err != nil {
				b.Fatal(err)
			}
			var kept []*ChangeRecord
			fn := func(rec *ChangeRecord, rerr *RecordError) error {
				if rerr != nil {
					return rerr
				}
				kept = append(kept, rec)
				return nil
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(c.data)))
			b.ResetTimer()
			cpu := cpuSeconds()
			for i := 0; i < b.N; i++ {
				kept = kept[:0]
				if err := d.Decode(context.Background(), bytes.NewReader(c.data), "bench", c.format, fn); err != nil {
					b.Fatal(err)
				}
			}
			reportCPU(b, cpu, int64(len(c.data)))
			b.ReportMetric(float64(len(kept))*float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}
