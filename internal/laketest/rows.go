package laketest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/ddblake/ddblake/flatten"
	"github.com/ddblake/ddblake/schemas"
)

// RichSchema returns a schema of table with a column of every type the
// lake writes: string, bigint, decimal, double, boolean, binary,
// timestamp, JSON and arrays of scalars, keyed by pk (and sk).
func RichSchema(table string) *schemas.Schema {
	s := schemas.NewSchema(table)
	s.Keys = []string{"pk", "sk"}
	for _, c := range []schemas.Column{
		{Name: "pk", Path: "pk", Type: schemas.String, Source: "S"},
		{Name: "sk", Path: "sk", Type: schemas.Bigint, Source: "N"},
		{Name: "body", Path: "body", Type: schemas.String, Source: "S"},
		{Name: "price", Path: "price", Type: schemas.Decimal(38, 2), Source: "N"},
		{Name: "ratio", Path: "ratio", Type: schemas.Double, Declared: true},
		{Name: "read", Path: "read", Type: schemas.Boolean, Source: "BOOL"},
		{Name: "thumb", Path: "thumb", Type: schemas.Binary, Source: "B"},
		{Name: "seen_at", Path: "seenAt", Type: schemas.Timestamp, Declared: true},
		{Name: "meta", Path: "meta", Type: schemas.JSON, Declared: true},
		{Name: "tags", Path: "tags", Type: schemas.ArrayOf(schemas.String), Source: "SS"},
		{Name: "counts", Path: "counts", Type: schemas.ArrayOf(schemas.Bigint), Source: "NS"},
		{Name: "prices", Path: "prices", Type: schemas.ArrayOf(schemas.Decimal(12, 3)), Source: "NS"},
	} {
		if _, err := s.Add(c); err != nil {
			panic(err)
		}
	}
	return s
}

// RichRows returns n rows of a RichSchema table, made from seed: event
// times from start (Unix ms) a few seconds apart, sequence numbers from
// seq, keys among a few items (so items change several times), every
// kind of cell among them, with nulls, empty arrays and null elements,
// and rows that use only a few columns. Every fifth change is a REMOVE,
// every seventh carries _extra.
func RichRows(n int, seed uint64, start int64, seq int) []flatten.Row {
	r := rand.New(rand.NewPCG(seed, 7))
	rows := make([]flatten.Row, n)
	for i := range rows {
		ev := "MODIFY"
		switch {
		case i%5 == 4:
			ev = "REMOVE"
		case i%3 == 0:
			ev = "INSERT"
		}
		row := flatten.Row{
			Meta: flatten.Meta{EventName: ev, EventID: fmt.Sprintf("e%d-%d", seed, i),
				EventTime: start + int64(i)*1500 + int64(r.IntN(1000)), Sequence: fmt.Sprintf("%040d", seq+i)},
			Values: make([]flatten.Datum, 12),
		}
		row.TTLDelete = ev == "REMOVE" && i%2 == 0
		if i%7 == 0 {
			row.Extra = []byte(`{"gone":{"NULL":true}}`)
		}
		v := row.Values
		v[0] = flatten.Datum{Valid: true, Str: fmt.Sprintf("room-%d", r.IntN(4))}
		v[1] = flatten.Datum{Valid: true, Int: int64(r.IntN(6)) - 2}
		if r.IntN(3) > 0 {
			v[2] = flatten.Datum{Valid: true, Str: [...]string{"안녕 👋", "a \"quote\"\n", "", "back\\slash"}[r.IntN(4)]}
		}
		if r.IntN(2) == 0 {
			v[3] = flatten.Datum{Valid: true, Str: [...]string{"-12.50", "0.01", "99999999999999999999999999999999999.99", "-0.99"}[r.IntN(4)]}
		}
		if i%4 == 1 {
			v[4] = flatten.Datum{Valid: true, Float: r.NormFloat64()}
			v[5] = flatten.Datum{Valid: true, Bool: r.IntN(2) == 0}
		}
		if i%6 == 2 {
			v[6] = flatten.Datum{Valid: true, Bytes: []byte{0, 1, 0xff, byte(i)}}
			v[7] = flatten.Datum{Valid: true, Int: start - int64(r.IntN(1e6))}
			v[8] = flatten.Datum{Valid: true, Str: `{"k":{"S":"v"}}`}
		}
		switch i % 4 {
		case 0:
			v[9] = flatten.Datum{Valid: true, List: []flatten.Datum{{Valid: true, Str: "a"}, {Valid: true, Str: "b"}}}
		case 1:
			v[9] = flatten.Datum{Valid: true, List: []flatten.Datum{}}
		case 2:
			v[10] = flatten.Datum{Valid: true, List: []flatten.Datum{{Valid: true, Int: 1}, {}, {Valid: true, Int: -3}}}
			v[11] = flatten.Datum{Valid: true, List: []flatten.Datum{{Valid: true, Str: "1.500"}, {Valid: true, Str: "-2.250"}}}
		}
		if ev == "REMOVE" {
			clear(v[2:])
		}
		// Some rows stop short: their later cells are null.
		if i%9 == 3 {
			row.Values = row.Values[:3]
		}
		rows[i] = row
	}
	return rows
}

// RowStrings reads every row of a Parquet file and renders each as one
// line: its top-level fields that are not null, by name, each with the
// levels and values of its leaves. Two files holding the same rows give
// the same lines whatever columns their schemas hold beyond those rows'.
// A file that cannot be read fails t.
func RowStrings(t testing.TB, body []byte) []string {
	t.Helper()
	f, err := parquet.OpenFile(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatalf("open parquet: %v", err)
	}
	fields := f.Schema().Fields()
	type leafOf struct {
		field string
		def   int
	}
	var leaves []leafOf
	var walk func(name string, n parquet.Node, def int)
	walk = func(name string, n parquet.Node, def int) {
		if n.Leaf() {
			leaves = append(leaves, leafOf{name, def})
			return
		}
		for _, c := range n.Fields() {
			walk(name, c, def)
		}
	}
	for _, fl := range fields {
		def := 0
		if fl.Optional() || fl.Repeated() {
			def = 1
		}
		walk(fl.Name(), fl, def)
	}
	var out []string
	buf := make([]parquet.Row, 32)
	for _, rg := range f.RowGroups() {
		rows := rg.Rows()
		for {
			n, err := rows.ReadRows(buf)
			for _, row := range buf[:n] {
				cells := map[string][]string{}
				present := map[string]bool{}
				for _, v := range row {
					l := leaves[v.Column()]
					if v.DefinitionLevel() >= l.def {
						present[l.field] = true
					}
					cells[l.field] = append(cells[l.field], fmt.Sprintf("%d/%d/%s", v.RepetitionLevel(), v.DefinitionLevel(), valueText(v)))
				}
				var parts []string
				for _, name := range slices.Sorted(maps.Keys(present)) {
					parts = append(parts, name+"="+strings.Join(cells[name], ","))
				}
				out = append(out, strings.Join(parts, " "))
			}
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("read parquet rows: %v", err)
			}
		}
		_ = rows.Close()
	}
	return out
}

func valueText(v parquet.Value) string {
	if v.IsNull() {
		return "null"
	}
	switch v.Kind() {
	case parquet.ByteArray, parquet.FixedLenByteArray:
		return strconv.Quote(string(v.ByteArray()))
	}
	return v.String()
}
