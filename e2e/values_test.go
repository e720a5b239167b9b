package e2e

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/stretchr/testify/require"
)

// The value check states the row model independently of ddblake: every
// attribute of the image is in the column the registry gives its path, with
// its value, when the column was made from the same DynamoDB type and the
// value fits the column's type; otherwise it is in _extra, a DynamoDB JSON
// item nested as in the image. _extra holds nothing else.

// joinPath appends an attribute name to a path: '.' between segments, '.'
// and '\' inside a segment escaped with '\' (the registry's path syntax).
func joinPath(path, name string) string {
	name = strings.ReplaceAll(name, `\`, `\\`)
	name = strings.ReplaceAll(name, `.`, `\.`)
	if path == "" {
		return name
	}
	return path + "." + name
}

// typed splits a DynamoDB attribute value into its one type tag and value.
func typed(t *testing.T, raw json.RawMessage) (string, json.RawMessage) {
	t.Helper()
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(raw, &m), "%s", raw)
	require.Len(t, m, 1, "an attribute value has one type: %s", raw)
	for k, v := range m {
		return k, v
	}
	return "", nil
}

// rowCheck compares one row with its record and collects mismatches.
type rowCheck struct {
	t       *testing.T
	reg     *registry
	row     lakeRow
	where   string
	extra   map[string]any // expected _extra, as nested DynamoDB JSON
	problem []string
	// checked38 counts numbers of 30 or more digits compared as text.
	checked38 int
}

func (c *rowCheck) fail(format string, a ...any) {
	c.problem = append(c.problem, c.where+": "+fmt.Sprintf(format, a...))
}

// checkRow checks the data columns and _extra of row against rec.
func checkRow(t *testing.T, reg *registry, rec expRecord, row lakeRow) (problems []string, checked38 int) {
	c := &rowCheck{t: t, reg: reg, row: row, extra: map[string]any{},
		where: fmt.Sprintf("%s %s %s@%d", rec.Source, rec.Event, rec.EventID+rec.Seq, rec.Micros)}
	c.walk("", nil, rec.Image)
	// _extra holds exactly the misfits and the NULLs, empty lists and
	// empty maps (the NULL rule keeps them there, column or not).
	got, _ := row["_extra"].(string)
	var gotV map[string]any
	if row["_extra"] != nil {
		if err := json.Unmarshal([]byte(got), &gotV); err != nil {
			c.fail("_extra is not a JSON object: %v: %s", err, got)
		} else if len(gotV) == 0 {
			c.fail("_extra is %s, want null when empty", got)
		}
	}
	switch {
	case len(c.extra) == 0 && len(gotV) > 0:
		c.fail("_extra = %s, want null", got)
	case len(c.extra) > 0 && gotV == nil:
		c.fail("_extra is null, want %s", mustJSON(c.extra))
	case len(c.extra) > 0 && !jsonEqual(gotV, c.extra):
		c.fail("_extra = %s, want %s", got, mustJSON(c.extra))
	}
	// Every data column the image does not fill is null.
	filled := map[string]bool{}
	c.filledColumns("", rec.Image, filled)
	for _, col := range reg.Columns {
		if v, present := row[col.Name]; present && v != nil && !filled[col.Name] {
			c.fail("column %s = %v, but the image has no value for %s", col.Name, v, col.Path)
		}
	}
	return c.problem, c.checked38
}

// filledColumns marks the columns that hold a value of the image.
func (c *rowCheck) filledColumns(prefix string, img attrs, out map[string]bool) {
	for name, raw := range img {
		path := joinPath(prefix, name)
		if col, ok := c.reg.column(path); ok {
			out[col.Name] = true
			continue
		}
		if tag, v := typed(c.t, raw); tag == "M" {
			var sub attrs
			require.NoError(c.t, json.Unmarshal(v, &sub))
			c.filledColumns(path, sub, out)
		}
	}
}

// walk checks the attributes of one map level. segs are the names leading
// to it, for placing misfits in _extra.
func (c *rowCheck) walk(prefix string, segs []string, img attrs) {
	for name, raw := range img {
		path := joinPath(prefix, name)
		at := append(append([]string(nil), segs...), name)
		tag, v := typed(c.t, raw)
		col, ok := c.reg.column(path)
		if tag == "M" && !ok {
			var sub attrs
			require.NoError(c.t, json.Unmarshal(v, &sub))
			if len(sub) == 0 {
				c.misfit(at, raw) // an empty map with no column is kept like NULL
				continue
			}
			c.walk(path, at, sub)
			continue
		}
		if !ok {
			c.misfit(at, raw)
			continue
		}
		got, present := c.row[col.Name]
		if !present {
			c.fail("column %s (%s) is missing from the scan", col.Name, path)
			continue
		}
		if isNullish(c.t, tag, v) {
			if got != nil {
				c.fail("%s: %s is %v, want null for %s", path, col.Name, got, raw)
			}
			c.misfit(at, raw) // the NULL rule: kept in _extra though the column exists
			continue
		}
		if strings.HasPrefix(col.Type, "map<") {
			c.mapCell(col, path, at, tag, v, raw, got)
			continue
		}
		want, fits := c.expect(col, tag, v, raw)
		if !fits {
			c.misfit(at, raw)
			if got != nil {
				c.fail("%s: %s = %v, want null (the value %s does not fit %s from %s)", path, col.Name, got, raw, col.Type, col.Source)
			}
			continue
		}
		if have := canon(c.t, got, col.Type, tag == "SS" || tag == "NS" || tag == "BS"); have != want {
			c.fail("%s: column %s (%s) = %s, want %s", path, col.Name, col.Type, have, want)
			continue
		}
		if tag == "N" && strings.HasPrefix(col.Type, "decimal(") {
			c.decimalText(col, v)
		}
	}
}

// mapCell checks a map column: the image's map, entry by entry. An entry
// whose value fits the value type is in the map; any other entry, and by
// the NULL rule a NULL, empty list or empty map, is in _extra under the
// map's path. A value that is no map at all is in _extra whole.
func (c *rowCheck) mapCell(col regColumn, path string, at []string, tag string, v, raw json.RawMessage, got any) {
	elem := strings.TrimSuffix(strings.TrimPrefix(col.Type, "map<string,"), ">")
	if tag != "M" || !(col.Declared || col.Source == "M") {
		c.misfit(at, raw)
		if got != nil {
			c.fail("%s: %s = %v, want null (the value %s is no map)", path, col.Name, got, raw)
		}
		return
	}
	var entries map[string]json.RawMessage
	require.NoError(c.t, json.Unmarshal(v, &entries))
	want := map[string]string{}
	for k, e := range entries {
		etag, ev := typed(c.t, e)
		switch {
		case isNullish(c.t, etag, ev):
			c.misfit(append(append([]string(nil), at...), k), e) // the NULL rule, inside maps too
		case elem == "json":
			var x any
			require.NoError(c.t, json.Unmarshal(e, &x))
			want[k] = "j:" + mustJSON(normJSON(x))
		case elem == "string" && !col.Declared && etag != "S":
			c.misfit(append(append([]string(nil), at...), k), e)
		default:
			s, fits := scalarCanon(c.t, elem, etag, ev)
			if !fits {
				c.misfit(append(append([]string(nil), at...), k), e)
				continue
			}
			want[k] = s
		}
	}
	if len(want) == 0 {
		if got != nil {
			c.fail("%s: %s = %v, want null (no entry fits %s)", path, col.Name, got, col.Type)
		}
		return
	}
	m, ok := got.(duckdb.OrderedMap)
	if !ok {
		c.fail("%s: %s is %T (%v), want a map of %d entries", path, col.Name, got, got, len(want))
		return
	}
	have := map[string]string{}
	keys, vals := m.Keys(), m.Values()
	for i, k := range keys {
		x := vals[i]
		ks, ok := k.(string)
		if !ok {
			c.fail("%s: %s has a key of type %T", path, col.Name, k)
			continue
		}
		have[ks] = canon(c.t, x, elem, false)
	}
	if !reflect.DeepEqual(want, have) {
		c.fail("%s: column %s (%s) = %v, want %v", path, col.Name, col.Type, have, want)
	}
}

// textPrefix names the extra column holding DuckDB's text of a decimal
// column: CAST(col AS VARCHAR).
const textPrefix = "__text__"

// decimalText compares DuckDB's text of a decimal with the input N: the
// exact value at the column's scale, and for numbers of 30 or more digits
// given as plain integers, the input's very digits.
func (c *rowCheck) decimalText(col regColumn, v json.RawMessage) {
	var s string
	require.NoError(c.t, json.Unmarshal(v, &s))
	d, ok := c.row[col.Name].(duckdb.Decimal)
	if !ok {
		c.fail("%s is %T, want a DECIMAL", col.Name, c.row[col.Name])
		return
	}
	text, ok := c.row[textPrefix+col.Name].(string)
	if !ok {
		c.fail("no text of %s was read", col.Name)
		return
	}
	r, _ := new(big.Rat).SetString(s)
	if want := r.FloatString(int(d.Scale)); text != want {
		c.fail("%s: DuckDB reads %s, the input says %s (%s at scale %d)", col.Name, text, s, want, d.Scale)
	}
	if digits := len(strings.TrimLeft(strings.Map(keepDigits, s), "0")); digits >= 30 {
		c.checked38++
		if !strings.ContainsAny(s, "eE.") && d.Scale == 0 && text != s {
			c.fail("%s: DuckDB reads %s, the input's %d digits are %s", col.Name, text, digits, s)
		}
	}
}

func keepDigits(r rune) rune {
	if r >= '0' && r <= '9' {
		return r
	}
	return -1
}

// misfit places a value in the expected _extra at the names at.
func (c *rowCheck) misfit(at []string, raw json.RawMessage) {
	var v any
	require.NoError(c.t, json.Unmarshal(raw, &v))
	m := c.extra
	for _, seg := range at[:len(at)-1] {
		next, ok := m[seg].(map[string]any)
		if !ok {
			next = map[string]any{"M": map[string]any{}}
			m[seg] = next
		}
		m = next["M"].(map[string]any)
	}
	m[at[len(at)-1]] = v
}

// isNullish reports a NULL, or an empty list or map (which the NULL rule
// keeps in _extra like NULL).
func isNullish(t *testing.T, tag string, v json.RawMessage) bool {
	switch tag {
	case "NULL":
		return true
	case "L":
		var l []json.RawMessage
		require.NoError(t, json.Unmarshal(v, &l))
		return len(l) == 0
	case "M":
		var m map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(v, &m))
		return len(m) == 0
	}
	return false
}

// expect returns the canonical form of the value the column must hold, and
// whether the value fits the column at all.
func (c *rowCheck) expect(col regColumn, tag string, v, raw json.RawMessage) (string, bool) {
	t := c.t
	if col.Type == "json" {
		var x any
		require.NoError(t, json.Unmarshal(raw, &x))
		return "j:" + mustJSON(normJSON(x)), col.Declared || col.Source == tag
	}
	if !col.Declared && col.Source != tag {
		return "", false
	}
	elem := strings.TrimSuffix(strings.TrimPrefix(col.Type, "array<"), ">")
	switch tag {
	case "S", "N", "B", "BOOL":
		return scalarCanon(t, col.Type, tag, v)
	case "SS", "NS", "BS":
		var items []json.RawMessage
		require.NoError(t, json.Unmarshal(v, &items))
		scalar := map[string]string{"SS": "S", "NS": "N", "BS": "B"}[tag]
		out := make([]string, 0, len(items))
		for _, it := range items {
			s, ok := scalarCanon(t, elem, scalar, it)
			if !ok {
				return "", false
			}
			out = append(out, s)
		}
		sort.Strings(out) // sets are unordered
		return "[" + strings.Join(out, ",") + "]", true
	case "L":
		var items []json.RawMessage
		require.NoError(t, json.Unmarshal(v, &items))
		out := make([]string, 0, len(items))
		for _, it := range items {
			etag, ev := typed(t, it)
			if etag == "N" && elem == "string" {
				return "", false // a list's elements are all of one type
			}
			s, ok := scalarCanon(t, elem, etag, ev)
			if !ok {
				return "", false
			}
			out = append(out, s)
		}
		return "[" + strings.Join(out, ",") + "]", true
	}
	return "", false
}

// scalarCanon is the canonical form of a scalar DynamoDB value in a column
// of type typ, and whether it fits.
func scalarCanon(t *testing.T, typ, tag string, v json.RawMessage) (string, bool) {
	switch tag {
	case "S":
		var s string
		require.NoError(t, json.Unmarshal(v, &s))
		return "s:" + s, typ == "string"
	case "B":
		var s string
		require.NoError(t, json.Unmarshal(v, &s))
		b, err := base64.StdEncoding.DecodeString(s)
		require.NoError(t, err)
		return "x:" + hex.EncodeToString(b), typ == "binary"
	case "BOOL":
		var b bool
		require.NoError(t, json.Unmarshal(v, &b))
		return fmt.Sprintf("b:%t", b), typ == "boolean"
	case "N":
		var s string
		require.NoError(t, json.Unmarshal(v, &s))
		r, ok := new(big.Rat).SetString(s)
		require.True(t, ok, "N %q", s)
		switch {
		case typ == "string":
			return "s:" + s, true // the exact decimal text
		case typ == "bigint":
			return "n:" + r.RatString(), r.IsInt() && r.Num().IsInt64()
		case strings.HasPrefix(typ, "decimal("):
			var p, sc int
			_, err := fmt.Sscanf(typ, "decimal(%d,%d)", &p, &sc)
			require.NoError(t, err)
			scaled := new(big.Rat).Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(sc)), nil)))
			limit := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(p)), nil)
			return "n:" + r.RatString(), scaled.IsInt() && new(big.Int).Abs(scaled.Num()).Cmp(limit) < 0
		case typ == "double":
			f, _ := r.Float64()
			return fmt.Sprintf("f:%v", f), true
		}
	}
	return "", false
}

// canon is the canonical form of a value read back by DuckDB; the
// elements of a set are sorted.
func canon(t *testing.T, v any, typ string, set bool) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case string:
		if typ == "json" {
			var j any
			if err := json.Unmarshal([]byte(x), &j); err != nil {
				return "not JSON: " + x
			}
			return "j:" + mustJSON(normJSON(j))
		}
		return "s:" + x
	case int64:
		return "n:" + big.NewRat(x, 1).RatString()
	case int32:
		return "n:" + big.NewRat(int64(x), 1).RatString()
	case duckdb.Decimal:
		r := new(big.Rat).SetFrac(x.Value, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(x.Scale)), nil))
		return "n:" + r.RatString()
	case float64:
		return fmt.Sprintf("f:%v", x)
	case bool:
		return fmt.Sprintf("b:%t", x)
	case []byte:
		return "x:" + hex.EncodeToString(x)
	case []any:
		elem := strings.TrimSuffix(strings.TrimPrefix(typ, "array<"), ">")
		out := make([]string, len(x))
		for i, e := range x {
			out[i] = canon(t, e, elem, false)
		}
		if set {
			sort.Strings(out) // sets are unordered
		}
		return "[" + strings.Join(out, ",") + "]"
	}
	return fmt.Sprintf("%T:%v", v, v)
}

// normJSON rewrites decoded JSON so that equal documents compare equal
// (numbers as their text is not at stake: DynamoDB JSON carries them as
// strings).
func normJSON(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normJSON(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normJSON(e)
		}
		return out
	}
	return v
}

func jsonEqual(a, b any) bool { return mustJSON(normJSON(a)) == mustJSON(normJSON(b)) }

// mustJSON encodes v with sorted keys (encoding/json sorts map keys).
func mustJSON(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprintf("%v", v)
	}
	return strings.TrimSpace(buf.String())
}
