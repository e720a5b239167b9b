package firehosedef

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"time"
)

// MarshalAPIJSON renders an AWS SDK (v2) input shape, such as a Firehose
// ExtendedS3DestinationConfiguration, as the JSON
// the service API and the AWS CLI (--table-input file://...) take: field
// names as the API spells them (the SDK's Go field names), struct fields
// in declaration order, map keys sorted, indented by two spaces, no HTML
// escaping. Like the SDK's own serializer it leaves out nil pointers,
// empty slices and maps, and scalars at their zero value (a pointer to
// false or 0 is kept). Times are epoch seconds. It fails for values JSON
// cannot hold (channels, functions, maps with non-string keys).
func MarshalAPIJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	ok, err := writeAPIValue(&buf, reflect.ValueOf(v), true)
	if err != nil {
		return nil, err
	}
	if !ok {
		buf.WriteString("null")
	}
	var out bytes.Buffer
	if err := json.Indent(&out, buf.Bytes(), "", "  "); err != nil {
		return nil, fmt.Errorf("firehosedef: render API JSON: %w", err)
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

var timeType = reflect.TypeFor[time.Time]()

// writeAPIValue writes v and reports whether it wrote anything; with
// omitZero, a zero or empty value writes nothing.
func writeAPIValue(buf *bytes.Buffer, v reflect.Value, omitZero bool) (bool, error) {
	if !v.IsValid() {
		return false, nil
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return false, nil
		}
		// A set pointer is written even when what it points at is zero.
		return writeAPIValue(buf, v.Elem(), false)
	}
	if v.Type() == timeType {
		t := v.Interface().(time.Time)
		if omitZero && t.IsZero() {
			return false, nil
		}
		buf.WriteString(strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', -1, 64))
		return true, nil
	}
	switch v.Kind() {
	case reflect.Struct:
		return writeAPIStruct(buf, v, omitZero)
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8 {
			if v.Len() == 0 && omitZero {
				return false, nil
			}
			return true, writeJSONScalar(buf, v.Interface())
		}
		if v.Len() == 0 && omitZero {
			return false, nil
		}
		buf.WriteByte('[')
		for i := 0; i < v.Len(); i++ {
			if i > 0 {
				buf.WriteByte(',')
			}
			ok, err := writeAPIValue(buf, v.Index(i), false)
			if err != nil {
				return false, err
			}
			if !ok {
				buf.WriteString("null")
			}
		}
		buf.WriteByte(']')
		return true, nil
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String {
			return false, fmt.Errorf("firehosedef: render API JSON: map key type %s", v.Type().Key())
		}
		if v.Len() == 0 && omitZero {
			return false, nil
		}
		keys := make([]string, 0, v.Len())
		for _, k := range v.MapKeys() {
			keys = append(keys, k.String())
		}
		sort.Strings(keys)
		buf.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := writeJSONScalar(buf, k); err != nil {
				return false, err
			}
			buf.WriteByte(':')
			ok, err := writeAPIValue(buf, v.MapIndex(reflect.ValueOf(k).Convert(v.Type().Key())), false)
			if err != nil {
				return false, err
			}
			if !ok {
				buf.WriteString("null")
			}
		}
		buf.WriteByte('}')
		return true, nil
	case reflect.String, reflect.Bool,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		if omitZero && v.IsZero() {
			return false, nil
		}
		return true, writeJSONScalar(buf, v.Interface())
	}
	return false, fmt.Errorf("firehosedef: render API JSON: unsupported kind %s", v.Kind())
}

func writeAPIStruct(buf *bytes.Buffer, v reflect.Value, omitZero bool) (bool, error) {
	var body bytes.Buffer
	n := 0
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		var field bytes.Buffer
		ok, err := writeAPIValue(&field, v.Field(i), true)
		if err != nil {
			return false, fmt.Errorf("%s.%s: %w", t.Name(), f.Name, err)
		}
		if !ok {
			continue
		}
		if n > 0 {
			body.WriteByte(',')
		}
		if err := writeJSONScalar(&body, f.Name); err != nil {
			return false, err
		}
		body.WriteByte(':')
		body.Write(field.Bytes())
		n++
	}
	if n == 0 && omitZero {
		return false, nil
	}
	buf.WriteByte('{')
	buf.Write(body.Bytes())
	buf.WriteByte('}')
	return true, nil
}

// writeJSONScalar writes a string, number or bool without HTML escaping,
// so Hive types such as array<string> stay readable.
func writeJSONScalar(buf *bytes.Buffer, v any) error {
	var tmp bytes.Buffer
	enc := json.NewEncoder(&tmp)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("firehosedef: render API JSON: %w", err)
	}
	buf.Write(bytes.TrimRight(tmp.Bytes(), "\n"))
	return nil
}
