package sample

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// This file holds test helpers that read outputs back with encoding/json
// alone, knowing nothing of how they were written.

// mapSink keeps written files in memory.
type mapSink struct {
	mu    sync.Mutex
	files map[string][]byte
}

func newMapSink() *mapSink { return &mapSink{files: map[string][]byte{}} }

type mapFile struct {
	bytes.Buffer
	sink *mapSink
	name string
}

func (f *mapFile) Close() error {
	f.sink.mu.Lock()
	defer f.sink.mu.Unlock()
	f.sink.files[f.name] = append([]byte{}, f.Bytes()...)
	return nil
}

func (m *mapSink) create(name string) (io.WriteCloser, error) {
	return &mapFile{sink: m, name: name}, nil
}

func (m *mapSink) names() []string {
	var ns []string
	for n := range m.files {
		ns = append(ns, n)
	}
	sort.Strings(ns)
	return ns
}

// decodeJSON decodes data strictly (numbers kept as json.Number).
func decodeJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("trailing data after JSON value")
	}
	return nil
}

var numberRE = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)

// significantDigits counts the digits of a decimal number without
// leading and trailing zeros.
func significantDigits(n string) int {
	n = strings.TrimPrefix(n, "-")
	if i := strings.IndexAny(n, "eE"); i >= 0 {
		n = n[:i]
	}
	n = strings.Replace(n, ".", "", 1)
	n = strings.TrimLeft(n, "0")
	n = strings.TrimRight(n, "0")
	return len(n)
}

// typeTags collects the DynamoDB type tags seen while validating.
type typeTags map[string]int

// checkItem validates a DynamoDB JSON item (a map of attribute values).
func checkItem(v any, seen typeTags) error {
	m, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("item is %T, not an object", v)
	}
	for name, av := range m {
		if name == "" {
			return fmt.Errorf("empty attribute name")
		}
		if err := checkValue(av, seen); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

// checkValue validates one DynamoDB JSON attribute value.
func checkValue(v any, seen typeTags) error {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return fmt.Errorf("attribute value must be an object with one type key, got %v", v)
	}
	for tag, x := range m {
		if seen != nil {
			seen[tag]++
		}
		switch tag {
		case "S":
			if _, ok := x.(string); !ok {
				return fmt.Errorf("S is %T", x)
			}
		case "N":
			s, ok := x.(string)
			if !ok {
				return fmt.Errorf("N must be a string, is %T", x)
			}
			if !numberRE.MatchString(s) || significantDigits(s) > 38 {
				return fmt.Errorf("bad N %q", s)
			}
		case "B":
			s, ok := x.(string)
			if !ok {
				return fmt.Errorf("B is %T", x)
			}
			if _, err := base64.StdEncoding.DecodeString(s); err != nil {
				return fmt.Errorf("B: %w", err)
			}
		case "BOOL":
			if _, ok := x.(bool); !ok {
				return fmt.Errorf("BOOL is %T", x)
			}
		case "NULL":
			if x != true {
				return fmt.Errorf("NULL must be true, is %v", x)
			}
		case "M":
			if err := checkItem(x, seen); err != nil {
				return fmt.Errorf("M: %w", err)
			}
		case "L":
			l, ok := x.([]any)
			if !ok {
				return fmt.Errorf("L is %T", x)
			}
			for i, e := range l {
				if err := checkValue(e, seen); err != nil {
					return fmt.Errorf("[%d]: %w", i, err)
				}
			}
		case "SS", "NS", "BS":
			l, ok := x.([]any)
			if !ok || len(l) == 0 {
				return fmt.Errorf("%s must be a non-empty array, is %v", tag, x)
			}
			dup := map[string]bool{}
			for _, e := range l {
				s, ok := e.(string)
				if !ok {
					return fmt.Errorf("%s member is %T", tag, e)
				}
				if dup[s] {
					return fmt.Errorf("%s holds %q twice", tag, s)
				}
				dup[s] = true
				if tag == "NS" && !numberRE.MatchString(s) {
					return fmt.Errorf("bad NS member %q", s)
				}
				if tag == "BS" {
					if _, err := base64.StdEncoding.DecodeString(s); err != nil {
						return fmt.Errorf("BS: %w", err)
					}
				}
			}
		default:
			return fmt.Errorf("unknown type %q", tag)
		}
	}
	return nil
}

// canon is the canonical text of a decoded JSON value (object keys
// sorted), for comparing images.
func canon(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}
