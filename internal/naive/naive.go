// Package naive is the baseline the benchmarks measure ddblake against:
// DynamoDB stream events to Parquet the way a first version would be
// written with aws-lambda-go's event types, encoding/json and parquet-go.
// It decodes each event whole with encoding/json into events.DynamoDBEvent,
// takes each record's NewImage (the OldImage for a REMOVE), flattens nested
// maps into dotted columns, keeps lists and sets as JSON text, types a
// column by the first value seen (S string, N double, BOOL boolean, B
// binary), and writes one zstd Parquet file per table and event.
//
// It is not a product path: it knows nothing of schema evolution, bad
// records, partitions or the lake's layout, and it would lose numbers past
// float64. It exists so that speed figures come with a ratio to a plain
// implementation measured in the same run, on the same machine.
//
//	files, err := naive.Event(payload) // table name -> Parquet bytes
package naive

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/parquet-go/parquet-go"
)

// column is one flat column: its name and Parquet kind.
type column struct {
	name string
	kind events.DynamoDBDataType
}

// table gathers the flat rows of one table.
type table struct {
	cols  map[string]events.DynamoDBDataType
	rows  []map[string]any
	names []string // event names, by row
	times []int64  // event times (ms), by row
}

// Event converts one DynamoDB stream event (a Lambda payload) into one
// Parquet file per table, by table name.
func Event(payload []byte) (map[string][]byte, error) {
	var ev events.DynamoDBEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, fmt.Errorf("naive: decode event: %w", err)
	}
	tables := map[string]*table{}
	for _, r := range ev.Records {
		name := r.EventSourceArn
		if i := strings.Index(name, ":table/"); i >= 0 {
			name = name[i+len(":table/"):]
			name, _, _ = strings.Cut(name, "/")
		}
		t := tables[name]
		if t == nil {
			t = &table{cols: map[string]events.DynamoDBDataType{}}
			tables[name] = t
		}
		image := r.Change.NewImage
		if image == nil {
			image = r.Change.OldImage
		}
		row := map[string]any{}
		flatten(t, row, "", image)
		t.rows = append(t.rows, row)
		t.names = append(t.names, r.EventName)
		t.times = append(t.times, r.Change.ApproximateCreationDateTime.UnixMilli())
	}
	out := map[string][]byte{}
	for name, t := range tables {
		body, err := t.parquet(name)
		if err != nil {
			return nil, err
		}
		out[name] = body
	}
	return out, nil
}

// flatten puts the attributes of m into row, nested maps as dotted names.
func flatten(t *table, row map[string]any, prefix string, m map[string]events.DynamoDBAttributeValue) {
	for k, v := range m {
		name := prefix + k
		var val any
		switch v.DataType() {
		case events.DataTypeMap:
			flatten(t, row, name+".", v.Map())
			continue
		case events.DataTypeNull:
			continue
		case events.DataTypeString:
			val = v.String()
		case events.DataTypeNumber:
			f, err := strconv.ParseFloat(v.Number(), 64)
			if err != nil {
				continue
			}
			val = f
		case events.DataTypeBoolean:
			val = v.Boolean()
		case events.DataTypeBinary:
			val = v.Binary()
		default: // lists and sets: their JSON text
			b, err := json.Marshal(v)
			if err != nil {
				continue
			}
			val = string(b)
		}
		kind, ok := t.cols[name]
		if !ok {
			kind = v.DataType()
			if kind != events.DataTypeString && kind != events.DataTypeNumber && kind != events.DataTypeBoolean && kind != events.DataTypeBinary {
				kind = events.DataTypeString
			}
			t.cols[name] = kind
		}
		row[name] = val
	}
}

// parquet writes the table's rows as one file.
func (t *table) parquet(name string) ([]byte, error) {
	group := parquet.Group{
		"_event_name": parquet.String(),
		"_event_time": parquet.Timestamp(parquet.Millisecond),
	}
	for c, kind := range t.cols {
		var node parquet.Node
		switch kind {
		case events.DataTypeNumber:
			node = parquet.Leaf(parquet.DoubleType)
		case events.DataTypeBoolean:
			node = parquet.Leaf(parquet.BooleanType)
		case events.DataTypeBinary:
			node = parquet.Leaf(parquet.ByteArrayType)
		default:
			node = parquet.String()
		}
		group[c] = parquet.Optional(node)
	}
	schema := parquet.NewSchema(name, group)
	var cols []column
	for _, f := range schema.Fields() {
		cols = append(cols, column{name: f.Name(), kind: t.cols[f.Name()]})
	}
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[parquet.Row](&buf, schema, parquet.Compression(&parquet.Zstd))
	row := make(parquet.Row, 0, len(cols))
	for i, r := range t.rows {
		row = row[:0]
		for ci, c := range cols {
			switch c.name {
			case "_event_name":
				row = append(row, parquet.ByteArrayValue([]byte(t.names[i])).Level(0, 0, ci))
				continue
			case "_event_time":
				row = append(row, parquet.Int64Value(t.times[i]).Level(0, 0, ci))
				continue
			}
			v, ok := r[c.name]
			if !ok {
				row = append(row, parquet.NullValue().Level(0, 0, ci))
				continue
			}
			var pv parquet.Value
			switch x := v.(type) {
			case string:
				if c.kind != events.DataTypeString {
					row = append(row, parquet.NullValue().Level(0, 0, ci))
					continue
				}
				pv = parquet.ByteArrayValue([]byte(x))
			case float64:
				if c.kind != events.DataTypeNumber {
					row = append(row, parquet.NullValue().Level(0, 0, ci))
					continue
				}
				pv = parquet.DoubleValue(x)
			case bool:
				if c.kind != events.DataTypeBoolean {
					row = append(row, parquet.NullValue().Level(0, 0, ci))
					continue
				}
				pv = parquet.BooleanValue(x)
			case []byte:
				if c.kind != events.DataTypeBinary {
					row = append(row, parquet.NullValue().Level(0, 0, ci))
					continue
				}
				pv = parquet.ByteArrayValue(x)
			}
			row = append(row, pv.Level(0, 1, ci))
		}
		if _, err := w.WriteRows([]parquet.Row{row}); err != nil {
			return nil, fmt.Errorf("naive: table %s: %w", name, err)
		}
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("naive: table %s: %w", name, err)
	}
	return buf.Bytes(), nil
}
