package sink_test

import (
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/ddblake/ddblake/flatten"
	"github.com/ddblake/ddblake/schemas"
	"github.com/ddblake/ddblake/sink"
)

// bytesCase is one table of random rows and the options it is encoded
// with, for TestEncodeBytesGolden.
type bytesCase struct {
	name string
	seed uint64
	rows int
	opts sink.ParquetOptions
}

// bytesCases mix every column type, cardinalities from one value to all
// distinct, nulls, short rows, values over MaxStatBytes, and options
// small enough to cut pages, row groups and files and to make
// dictionaries fall back to plain.
var bytesCases = []bytesCase{
	{name: "small", seed: 1, rows: 7},
	{name: "default", seed: 2, rows: 3000},
	{name: "pages", seed: 3, rows: 3000, opts: sink.ParquetOptions{PageBytes: 2 << 10}},
	{name: "groups", seed: 4, rows: 4000, opts: sink.ParquetOptions{RowGroupBytes: 16 << 10, PageBytes: 4 << 10}},
	{name: "files", seed: 5, rows: 5000, opts: sink.ParquetOptions{FileBytes: 40 << 10, RowGroupBytes: 20 << 10}},
	{name: "dictmax", seed: 6, rows: 3000, opts: sink.ParquetOptions{DictionaryMaxBytes: 512}},
	{name: "snappy", seed: 7, rows: 2000, opts: sink.ParquetOptions{Compression: sink.CompressionSnappy}},
	{name: "none", seed: 8, rows: 2000, opts: sink.ParquetOptions{Compression: sink.CompressionNone}},
	{name: "level1", seed: 9, rows: 2000, opts: sink.ParquetOptions{CompressionLevel: 1}},
	{name: "level9", seed: 10, rows: 2000, opts: sink.ParquetOptions{CompressionLevel: 9}},
	{name: "level19", seed: 11, rows: 1500, opts: sink.ParquetOptions{CompressionLevel: 19}},
	{name: "large", seed: 12, rows: 20000},
	{name: "sparse", seed: 13, rows: 3000},
	{name: "edge1023", seed: 14, rows: 1023},
	{name: "edge1025", seed: 15, rows: 1025},
	{name: "gzip", seed: 16, rows: 1000, opts: sink.ParquetOptions{Compression: sink.CompressionGzip}},
}

// bytesTable makes a table for case c: a schema of columns of random
// types and a value generator per column of random cardinality, then
// rows of them. The same case gives the same table.
func bytesTable(c bytesCase) (*schemas.Schema, []flatten.Row) {
	r := rand.New(rand.NewPCG(c.seed, 77))
	scalars := []schemas.Type{
		schemas.String, schemas.String, schemas.String, schemas.JSON, schemas.Bigint, schemas.Timestamp,
		schemas.Double, schemas.Boolean, schemas.Binary, schemas.Decimal(12, 2), schemas.Decimal(38, 6),
		schemas.Decimal(5, 0),
	}
	s := schemas.NewSchema("t" + c.name)
	ncols := 4 + r.IntN(30)
	type gen struct {
		typ   schemas.Type
		card  int     // distinct values of a generator (0: all distinct)
		nulls float64 // share of null cells
		long  bool    // some strings over MaxStatBytes
	}
	gens := make([]gen, ncols)
	for j := range gens {
		t := scalars[r.IntN(len(scalars))]
		switch r.IntN(6) {
		case 0:
			if t.Kind != schemas.KindJSON {
				t = schemas.ArrayOf(t)
			}
		case 1:
			t = schemas.MapOf(t)
		}
		cards := []int{0, 1, 2, 3, 10, 300, 511, 512, 513, 700, 5000}
		gens[j] = gen{typ: t, card: cards[r.IntN(len(cards))], nulls: []float64{0, 0, 0.1, 0.5, 0.97, 1}[r.IntN(6)], long: r.IntN(8) == 0}
		if _, err := s.Add(schemas.Column{Name: fmt.Sprintf("c%02d", j), Path: fmt.Sprintf("c%02d", j), Type: t}); err != nil {
			panic(err)
		}
	}
	scalar := func(g gen, t schemas.Type) flatten.Datum {
		k := r.IntN(1 << 30)
		if g.card > 0 {
			k = r.IntN(g.card)
		}
		switch t.Kind {
		case schemas.KindString, schemas.KindJSON:
			v := fmt.Sprintf("v%d", k)
			if g.long && k%3 == 0 {
				v = strings.Repeat("x", 40+k%100) + v
			}
			if k%7 == 0 {
				v += " ünï 😀"
			}
			return flatten.Datum{Valid: true, Str: v}
		case schemas.KindBigint, schemas.KindTimestamp:
			return flatten.Datum{Valid: true, Int: int64(k) - 1<<29}
		case schemas.KindDouble:
			return flatten.Datum{Valid: true, Float: float64(k) / 7}
		case schemas.KindBoolean:
			return flatten.Datum{Valid: true, Bool: k%2 == 0}
		case schemas.KindBinary:
			b := []byte(fmt.Sprintf("b%d", k))
			if g.long && k%3 == 0 {
				b = append(b, []byte(strings.Repeat("\xff", 70))...)
			}
			return flatten.Datum{Valid: true, Bytes: b}
		case schemas.KindDecimal:
			digits := t.Precision - t.Scale
			ip := fmt.Sprint(k)
			if len(ip) > digits {
				ip = ip[:digits]
			}
			if k%2 == 1 {
				ip = "-" + ip
			}
			if ip == "-0" {
				ip = "0"
			}
			if t.Scale == 0 {
				return flatten.Datum{Valid: true, Str: ip}
			}
			return flatten.Datum{Valid: true, Str: ip + "." + strings.Repeat(fmt.Sprint(k%10), t.Scale)}
		}
		panic(t.String())
	}
	rows := make([]flatten.Row, c.rows)
	for i := range rows {
		width := ncols
		if c.name == "sparse" || r.IntN(4) == 0 {
			width = r.IntN(ncols + 1)
		}
		vals := make([]flatten.Datum, width)
		for j := range vals {
			g := gens[j]
			if r.Float64() < g.nulls {
				continue
			}
			switch g.typ.Kind {
			case schemas.KindArray:
				n := r.IntN(4)
				l := make([]flatten.Datum, n)
				for k := range l {
					l[k] = scalar(g, g.typ.Leaf())
				}
				vals[j] = flatten.Datum{Valid: true, List: l}
			case schemas.KindMap:
				n := 1 + r.IntN(3)
				var kv []flatten.Datum
				for k := range n {
					v := scalar(g, g.typ.Leaf())
					if r.IntN(10) == 0 {
						v = flatten.Datum{}
					}
					kv = append(kv, flatten.Datum{Valid: true, Str: fmt.Sprintf("k%d", (k+r.IntN(3))%5)}, v)
				}
				vals[j] = flatten.MapOf(kv...)
			default:
				vals[j] = scalar(g, g.typ)
			}
		}
		row := flatten.Row{
			Meta: flatten.Meta{EventName: []string{"INSERT", "MODIFY", "REMOVE"}[r.IntN(3)],
				EventID: fmt.Sprintf("%032x", r.Uint64()), EventTime: apr1 + int64(i)*1000,
				Sequence: fmt.Sprintf("%040d", i), TTLDelete: r.IntN(30) == 0},
			Values: vals,
		}
		if r.IntN(5) == 0 {
			row.Extra = []byte(fmt.Sprintf(`{"x%d":{"NULL":true}}`, r.IntN(50)))
		}
		if r.IntN(9) == 0 {
			row.OldImage = []byte(fmt.Sprintf(`{"id":{"S":"%d"}}`, i))
		}
		rows[i] = row
	}
	return s, rows
}

// TestEncodeBytesGolden pins the bytes of the files the Encoder writes
// for tables of every column type, cardinality and option: the SHA-256
// of each file, against testdata/sink/encode_bytes.golden. Changes that
// make the encoder faster must keep its output byte for byte.
func TestEncodeBytesGolden(t *testing.T) {
	var b strings.Builder
	shared := newEncoder(t, sink.ParquetOptions{}) // reused, as a TableWriter does
	for _, c := range bytesCases {
		s, rows := bytesTable(c)
		enc := shared
		if c.opts != (sink.ParquetOptions{}) {
			enc = newEncoder(t, c.opts)
		}
		for i, f := range encodeAll(t, enc, s, rows) {
			fmt.Fprintf(&b, "%s %d rows=%d groups=%d bytes=%d sha256=%x\n", c.name, i, f.Rows, f.RowGroups, len(f.Body), sha256.Sum256(f.Body))
		}
	}
	golden(t, "encode_bytes.golden", b.String())
}
