package ionexport

import (
	"bytes"

	"github.com/amazon-ion/ion-go/ion"
)

// binaryMarker is the binary Ion 1.0 version marker.
var binaryMarker = []byte{0xE0, 0x01, 0x00, 0xEA}

// IsIon reports whether data starting with head is Ion rather than JSON:
// binary Ion (its version marker), or text starting with a version marker
// or symbol table ($ion_...), or with a struct whose first field name is
// not a JSON string ({Item:...}).
func IsIon(head []byte) bool {
	if bytes.HasPrefix(head, binaryMarker) {
		return true
	}
	head = bytes.TrimLeft(head, " \t\r\n")
	if bytes.HasPrefix(head, []byte("$ion_")) {
		return true
	}
	if len(head) == 0 || head[0] != '{' {
		return false
	}
	head = bytes.TrimLeft(head[1:], " \t\r\n")
	if len(head) == 0 {
		return false
	}
	c := head[0]
	return c == '\'' || c == '_' || c == '$' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// Kind is what the first item of Ion export data is.
type Kind uint8

// Kinds of items.
const (
	// KindUnknown is data whose first item has none of the members below
	// before its end or the end of head.
	KindUnknown Kind = iota
	// KindFull is a full export item: {Item:{...}}.
	KindFull
	// KindIncremental is an incremental export item: {Metadata:...,
	// Keys:..., NewImage:..., OldImage:...}.
	KindIncremental
)

// KindOf tells full from incremental export data by the field names of
// its first item, read from head (the start of the data, decompressed);
// a first item cut short by head's end is read as far as it goes.
func KindOf(head []byte) Kind {
	r := ion.NewReaderBytes(head)
	for r.Next() {
		if r.Type() == ion.SymbolType {
			continue // a version marker
		}
		if r.Type() != ion.StructType || r.IsNull() || r.StepIn() != nil {
			return KindUnknown
		}
		for r.Next() {
			name, err := r.FieldName()
			if err != nil || name == nil || name.Text == nil {
				continue
			}
			switch *name.Text {
			case "Item":
				return KindFull
			case "Metadata", "Keys", "NewImage", "OldImage":
				return KindIncremental
			}
		}
		return KindUnknown
	}
	return KindUnknown
}
