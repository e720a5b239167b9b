package schemas

import (
	"fmt"
	"strconv"
	"strings"
)

// Kind is the family of a column type.
type Kind uint8

// Column type kinds. JSON is a string column holding DynamoDB JSON; it is a
// string to Athena and Parquet, and a promise about the content to users.
// Map is map<string,V>: a DynamoDB map kept whole in one column, keyed by
// the attribute names, with values of one type V (a scalar type or json).
const (
	KindInvalid Kind = iota
	KindString
	KindBigint
	KindDecimal
	KindDouble
	KindBoolean
	KindBinary
	KindTimestamp
	KindJSON
	KindArray
	KindMap
)

// MaxDecimalPrecision is the largest precision Athena accepts for decimal(p,s).
const MaxDecimalPrecision = 38

// Type is a column type: a kind, the precision and scale of decimals, the
// element type of arrays and the value type of maps (whose keys are
// always strings). The zero Type is invalid.
type Type struct {
	Kind      Kind
	Precision int   // decimal only
	Scale     int   // decimal only
	Elem      *Type // array: the element type; map: the value type; never an array or a map
}

// Common types.
var (
	String    = Type{Kind: KindString}
	Bigint    = Type{Kind: KindBigint}
	Double    = Type{Kind: KindDouble}
	Boolean   = Type{Kind: KindBoolean}
	Binary    = Type{Kind: KindBinary}
	Timestamp = Type{Kind: KindTimestamp}
	JSON      = Type{Kind: KindJSON}
)

// Decimal returns decimal(precision, scale).
func Decimal(precision, scale int) Type {
	return Type{Kind: KindDecimal, Precision: precision, Scale: scale}
}

// ArrayOf returns array<elem>.
func ArrayOf(elem Type) Type {
	e := elem
	return Type{Kind: KindArray, Elem: &e}
}

// MapOf returns map<string,value>.
func MapOf(value Type) Type {
	v := value
	return Type{Kind: KindMap, Elem: &v}
}

// String renders the type in the spelling used by configs and the registry:
// string, bigint, decimal(38,2), double, boolean, binary, timestamp, json,
// array<T>, map<string,V>. Athena spelling differs only for json (see
// AthenaName).
func (t Type) String() string {
	switch t.Kind {
	case KindString:
		return "string"
	case KindBigint:
		return "bigint"
	case KindDecimal:
		return fmt.Sprintf("decimal(%d,%d)", t.Precision, t.Scale)
	case KindDouble:
		return "double"
	case KindBoolean:
		return "boolean"
	case KindBinary:
		return "binary"
	case KindTimestamp:
		return "timestamp"
	case KindJSON:
		return "json"
	case KindArray:
		if t.Elem == nil {
			return "array<invalid>"
		}
		return "array<" + t.Elem.String() + ">"
	case KindMap:
		if t.Elem == nil {
			return "map<string,invalid>"
		}
		return "map<string," + t.Elem.String() + ">"
	}
	return "invalid"
}

// AthenaName is the type as Athena and Glue spell it (json becomes
// string, also inside arrays and maps).
func (t Type) AthenaName() string {
	switch t.Kind {
	case KindJSON:
		return "string"
	case KindArray:
		if t.Elem == nil {
			return "array<string>"
		}
		return "array<" + t.Elem.AthenaName() + ">"
	case KindMap:
		if t.Elem == nil {
			return "map<string,string>"
		}
		return "map<string," + t.Elem.AthenaName() + ">"
	}
	return t.String()
}

// Leaf is the type of the values a column stores one by one: the element
// type of an array, the value type of a map, else t itself.
func (t Type) Leaf() Type {
	if (t.Kind == KindArray || t.Kind == KindMap) && t.Elem != nil {
		return *t.Elem
	}
	return t
}

// Equal reports whether two types are the same.
func (t Type) Equal(u Type) bool {
	if t.Kind != u.Kind || t.Precision != u.Precision || t.Scale != u.Scale {
		return false
	}
	if t.Kind == KindArray || t.Kind == KindMap {
		if t.Elem == nil || u.Elem == nil {
			return t.Elem == u.Elem
		}
		return t.Elem.Equal(*u.Elem)
	}
	return true
}

// Validate reports whether the type is well formed.
func (t Type) Validate() error {
	switch t.Kind {
	case KindString, KindBigint, KindDouble, KindBoolean, KindBinary, KindTimestamp, KindJSON:
		return nil
	case KindDecimal:
		if t.Precision < 1 || t.Precision > MaxDecimalPrecision || t.Scale < 0 || t.Scale > t.Precision {
			return fmt.Errorf("%w: decimal(%d,%d): precision must be 1-%d and scale 0-precision",
				ErrBadType, t.Precision, t.Scale, MaxDecimalPrecision)
		}
		return nil
	case KindArray:
		if t.Elem == nil || t.Elem.Kind == KindArray || t.Elem.Kind == KindMap || t.Elem.Kind == KindJSON {
			return fmt.Errorf("%w: %s: arrays hold scalars", ErrBadType, t)
		}
		return t.Elem.Validate()
	case KindMap:
		if t.Elem == nil || t.Elem.Kind == KindArray || t.Elem.Kind == KindMap {
			return fmt.Errorf("%w: %s: map values are scalars or json", ErrBadType, t)
		}
		return t.Elem.Validate()
	}
	return fmt.Errorf("%w: kind %d", ErrBadType, t.Kind)
}

// ParseType reads a type in the spelling of String. It accepts surrounding
// space and upper case, int/integer for bigint, decimal(p) for
// decimal(p,0), and space around the parts of map<string, V>; a map key
// type other than string is an error.
func ParseType(s string) (Type, error) {
	in := s
	s = strings.ToLower(strings.TrimSpace(s))
	var t Type
	switch s {
	case "string", "varchar":
		t = String
	case "bigint", "int", "integer", "long":
		t = Bigint
	case "double", "float":
		t = Double
	case "boolean", "bool":
		t = Boolean
	case "binary":
		t = Binary
	case "timestamp":
		t = Timestamp
	case "json":
		t = JSON
	default:
		switch {
		case strings.HasPrefix(s, "decimal(") && strings.HasSuffix(s, ")"):
			args := strings.Split(s[len("decimal("):len(s)-1], ",")
			if len(args) > 2 {
				return Type{}, fmt.Errorf("%w: %q", ErrBadType, in)
			}
			p, err := strconv.Atoi(strings.TrimSpace(args[0]))
			if err != nil {
				return Type{}, fmt.Errorf("%w: %q: precision: %v", ErrBadType, in, err)
			}
			sc := 0
			if len(args) == 2 {
				if sc, err = strconv.Atoi(strings.TrimSpace(args[1])); err != nil {
					return Type{}, fmt.Errorf("%w: %q: scale: %v", ErrBadType, in, err)
				}
			}
			t = Decimal(p, sc)
		case strings.HasPrefix(s, "array<") && strings.HasSuffix(s, ">"):
			elem, err := ParseType(s[len("array<") : len(s)-1])
			if err != nil {
				return Type{}, err
			}
			t = ArrayOf(elem)
		case strings.HasPrefix(s, "map<") && strings.HasSuffix(s, ">"):
			key, value, ok := strings.Cut(s[len("map<"):len(s)-1], ",")
			if !ok {
				return Type{}, fmt.Errorf("%w: %q: want map<string,V>", ErrBadType, in)
			}
			if k := strings.TrimSpace(key); k != "string" && k != "varchar" {
				return Type{}, fmt.Errorf("%w: %q: map keys are strings (want map<string,V>)", ErrBadType, in)
			}
			v, err := ParseType(value)
			if err != nil {
				return Type{}, err
			}
			t = MapOf(v)
		default:
			return Type{}, fmt.Errorf("%w: %q (want string, bigint, decimal(p,s), double, boolean, binary, timestamp, json, array<T> or map<string,V>)", ErrBadType, in)
		}
	}
	if err := t.Validate(); err != nil {
		return Type{}, err
	}
	return t, nil
}

// MarshalText writes the String spelling.
func (t Type) MarshalText() ([]byte, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	return []byte(t.String()), nil
}

// UnmarshalText reads the String spelling.
func (t *Type) UnmarshalText(b []byte) error {
	v, err := ParseType(string(b))
	if err != nil {
		return err
	}
	*t = v
	return nil
}
