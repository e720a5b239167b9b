package sink_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/ddblake/ddblake/flatten"
	"github.com/ddblake/ddblake/schemas"
	"github.com/ddblake/ddblake/sink"
)

// benchTable makes n rows of a chat-messages table of 28 data columns,
// with the mix of cardinalities, nulls and sizes such a table has. The
// rows are the same for the same n.
func benchTable(n int) (*schemas.Schema, []flatten.Row) {
	s := schemas.NewSchema("chat_messages")
	cols := []struct {
		name string
		typ  schemas.Type
	}{
		{"room_id", schemas.String}, {"sk", schemas.String}, {"body", schemas.String},
		{"sender_id", schemas.String}, {"sender_profile_name", schemas.String},
		{"sender_profile_image_url", schemas.String}, {"created_at", schemas.Bigint},
		{"updated_at", schemas.Timestamp}, {"like_count", schemas.Bigint}, {"score", schemas.Double},
		{"price", schemas.Decimal(12, 2)}, {"amount", schemas.Decimal(38, 6)},
		{"is_deleted", schemas.Boolean}, {"is_pinned", schemas.Boolean}, {"attachment", schemas.Binary},
		{"tags", schemas.ArrayOf(schemas.String)}, {"mentions", schemas.ArrayOf(schemas.String)},
		{"reaction_count", schemas.Bigint}, {"lang", schemas.String}, {"client_version", schemas.String},
		{"device", schemas.String}, {"thread_id", schemas.String}, {"reply_count", schemas.Bigint},
		{"meta", schemas.JSON}, {"edited", schemas.Boolean}, {"geo_lat", schemas.Double},
		{"geo_lon", schemas.Double}, {"seq", schemas.Bigint},
	}
	for _, c := range cols {
		if _, err := s.Add(schemas.Column{Name: c.name, Path: c.name, Type: c.typ}); err != nil {
			panic(err)
		}
	}
	r := rand.New(rand.NewPCG(1, uint64(n)))
	words := []string{"hello", "world", "lunch", "meeting", "tomorrow", "ok", "thanks", "see", "you", "at", "the", "office", "😀", "네", "좋아요"}
	langs := []string{"en", "ko", "ja", "fr"}
	devices := []string{"ios", "android", "web"}
	rows := make([]flatten.Row, n)
	for i := range rows {
		t := apr1 + int64(i)*850 + r.Int64N(1000)
		body := ""
		for k := 3 + r.IntN(25); k > 0; k-- {
			body += words[r.IntN(len(words))] + " "
		}
		v := make([]flatten.Datum, len(cols))
		room := r.IntN(200)
		sender := r.IntN(5000)
		v[0] = str(fmt.Sprintf("room-%04d", room))
		v[1] = str(fmt.Sprintf("MSG#%012d", i))
		v[2] = str(body)
		v[3] = str(fmt.Sprintf("user-%06d", sender))
		v[4] = str(fmt.Sprintf("User Number %d", sender))
		v[5] = str(fmt.Sprintf("https://cdn.example.com/u/%06d/avatar.png", sender))
		v[6] = i64(t / 1000)
		v[7] = i64(t + r.Int64N(60_000))
		v[8] = i64(r.Int64N(50))
		v[9] = f64(r.Float64() * 100)
		v[10] = str(fmt.Sprintf("%d.%02d", r.IntN(100000)-50000, r.IntN(100)))
		v[11] = str(fmt.Sprintf("%d.%06d", r.Int64N(1<<40)-(1<<39), r.IntN(1000000)))
		if v[11].Str[0] == '-' && v[11].Str[1:2] == "0" {
			v[11] = str(v[11].Str[1:])
		}
		if v[10].Str[0] == '-' && v[10].Str[1:2] == "0" {
			v[10] = str(v[10].Str[1:])
		}
		v[12] = boolean(r.IntN(50) == 0)
		v[13] = boolean(r.IntN(20) == 0)
		if r.IntN(10) == 0 {
			b := make([]byte, 16+r.IntN(64))
			for k := range b {
				b[k] = byte(r.IntN(256))
			}
			v[14] = bin(b)
		}
		if r.IntN(3) == 0 {
			v[15] = list(str(words[r.IntN(5)]), str(words[r.IntN(5)+5]))
		}
		if r.IntN(4) == 0 {
			v[16] = list(str(fmt.Sprintf("user-%06d", r.IntN(5000))))
		}
		v[17] = i64(r.Int64N(10))
		v[18] = str(langs[r.IntN(len(langs))])
		v[19] = str(fmt.Sprintf("7.%d.%d", r.IntN(5), r.IntN(20)))
		v[20] = str(devices[r.IntN(len(devices))])
		if r.IntN(5) == 0 {
			v[21] = str(fmt.Sprintf("thread-%08d", r.IntN(100000)))
			v[22] = i64(r.Int64N(30))
		}
		if r.IntN(8) == 0 {
			v[23] = str(fmt.Sprintf(`{"client":{"S":"%s"},"n":{"N":"%d"}}`, devices[r.IntN(3)], r.IntN(1000)))
		}
		v[24] = boolean(r.IntN(7) == 0)
		if r.IntN(2) == 0 {
			v[25] = f64(37 + r.Float64())
			v[26] = f64(127 + r.Float64())
		}
		v[27] = i64(int64(i))
		event := "INSERT"
		if i%5 == 0 {
			event = "MODIFY"
		}
		var extra []byte
		if r.IntN(50) == 0 {
			extra = []byte(`{"legacy":{"NULL":true}}`)
		}
		rows[i] = flatten.Row{
			Meta: flatten.Meta{EventName: event, EventID: fmt.Sprintf("%032x", r.Uint64()), EventTime: t,
				Sequence: fmt.Sprintf("1112%036d", i)},
			Values: v,
			Extra:  extra,
		}
	}
	return s, rows
}

// rawSize approximates the input volume of rows: the bytes of their cells.
func rawSize(rows []flatten.Row) int64 {
	var n int64
	var cell func(d flatten.Datum) int64
	cell = func(d flatten.Datum) int64 {
		m := int64(8 + len(d.Str) + len(d.Bytes))
		for _, e := range d.List {
			m += cell(e)
		}
		return m
	}
	for _, r := range rows {
		n += int64(len(r.EventName) + len(r.EventID) + len(r.Sequence) + 9 + len(r.Extra))
		for _, d := range r.Values {
			if d.Valid {
				n += cell(d)
			}
		}
	}
	return n
}

// BenchmarkEncode encodes 100k rows of 28 data columns per iteration.
// SetBytes is the raw cell volume, so MB/s is input throughput.
func BenchmarkEncode(b *testing.B) {
	s, rows := benchTable(100_000)
	for _, c := range []sink.Compression{sink.CompressionZstd, sink.CompressionSnappy} {
		b.Run(string(c), func(b *testing.B) {
			enc, err := sink.NewEncoder(sink.ParquetOptions{Compression: c})
			if err != nil {
				b.Fatal(err)
			}
			var out int64
			b.SetBytes(rawSize(rows))
			b.ReportAllocs()
			for b.Loop() {
				out = 0
				if err := enc.Encode(s, rows, func(f sink.EncodedFile) error {
					out += int64(len(f.Body))
					return nil
				}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(rows))*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(out), "file-bytes")
		})
	}
}

// BenchmarkEncodeBatch encodes the rows of one Lambda batch (4,050 rows
// of the chat-messages table) per iteration, the shape the Lambda
// writes: one file, a few pages per column. cpu-ms/op is the process's
// CPU time per batch, the collector's included (wall time on a shared
// machine measures the neighbours).
func BenchmarkEncodeBatch(b *testing.B) {
	s, rows := benchTable(4050)
	enc, err := sink.NewEncoder(sink.ParquetOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(rawSize(rows))
	b.ReportAllocs()
	cpu := cpuSeconds()
	for b.Loop() {
		if err := enc.Encode(s, rows, func(sink.EncodedFile) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(rows))*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	if used := cpuSeconds() - cpu; cpu > 0 && used > 0 {
		b.ReportMetric(used*1000/float64(b.N), "cpu-ms/op")
	}
}
