package sink

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"unicode/utf8"
)

// MaxQuarantineRawBytes bounds the raw bytes one quarantine line keeps:
// a record longer than this (an item far over DynamoDB's 400 KB, a line
// of many MiB) keeps its first MaxQuarantineRawBytes, with its length and
// SHA-256 so that it can be found again in its input.
const MaxQuarantineRawBytes = 1 << 20

// QuarantineRecord is one input record set aside, with why. The
// quarantine keeps the raw bytes so the record can be fixed and replayed.
type QuarantineRecord struct {
	// Table is the table the input named (as given: it may be empty or
	// not a valid lake name, in which case the record is filed under
	// _unknown).
	Table string
	// EventTime files the record under its day (Unix ms, UTC); records
	// whose time is unknown (0), or outside years 0000-9999, go under
	// dt=1970-01-01.
	EventTime int64
	// Reason says what was wrong, for a person.
	Reason string
	// Source and Index locate the record in its input (file and line, or
	// event and record index).
	Source string
	Index  int
	// Path is the attribute path at fault, if any.
	Path string
	// ErrorKind is a short stable word for the class of problem
	// (bad_json, bad_table, bad_value, ...), for grouping.
	ErrorKind string
	// Raw is the record's bytes as read, or as redacted (see Redacted).
	Raw []byte
	// Redacted, when set, says that Raw is not the record as read:
	// "masked" (the configuration's omit and mask rules applied),
	// "envelope" (a record that is not valid JSON: only its envelope
	// fields) or "withheld" (no bytes kept). RawSize is then the size of
	// the record as read.
	Redacted string
	RawSize  int
}

// quarantineLine is the JSON shape of one quarantine line, in field order.
type quarantineLine struct {
	Reason    string  `json:"reason"`
	Source    string  `json:"source"`
	Index     int     `json:"index"`
	Path      string  `json:"path,omitempty"`
	ErrorKind string  `json:"error_kind,omitempty"`
	Table     string  `json:"table,omitempty"`
	Raw       *string `json:"raw,omitempty"`
	RawBase64 string  `json:"raw_base64,omitempty"`
	Redacted  string  `json:"redacted,omitempty"`
	RawSize   int     `json:"raw_size,omitempty"`
	// Set when raw holds only the first MaxQuarantineRawBytes.
	RawTruncated bool   `json:"raw_truncated,omitempty"`
	RawSHA256    string `json:"raw_sha256,omitempty"`
}

// AppendQuarantineLine appends rec to dst as one line of JSON:
// {"reason","source","index","path","error_kind","table","raw"} where raw
// is the record's bytes as a string when they are valid UTF-8, else
// "raw_base64" holds them in standard base64. A redacted record adds
// "redacted" and "raw_size"; a withheld one has no raw. Raw bytes past
// MaxQuarantineRawBytes are cut (at a character boundary when they are
// text), and the line says so: "raw_truncated":true, with "raw_size" (the
// whole length) and, for bytes as read, "raw_sha256" (of the whole, hex).
func AppendQuarantineLine(dst []byte, rec QuarantineRecord) []byte {
	line := quarantineLine{Reason: rec.Reason, Source: rec.Source, Index: rec.Index, Path: rec.Path,
		ErrorKind: rec.ErrorKind, Table: rec.Table, Redacted: rec.Redacted}
	if rec.Redacted != "" {
		line.RawSize = rec.RawSize
	}
	raw := rec.Raw
	if len(raw) > MaxQuarantineRawBytes && rec.Redacted != "withheld" {
		line.RawTruncated = true
		if rec.Redacted == "" {
			sum := sha256.Sum256(raw)
			line.RawSize, line.RawSHA256 = len(raw), hex.EncodeToString(sum[:])
		}
		cut := MaxQuarantineRawBytes
		for i := 0; i < utf8.UTFMax && cut > 0 && !utf8.RuneStart(raw[cut]); i++ {
			cut--
		}
		raw = raw[:cut]
	}
	switch {
	case rec.Redacted == "withheld":
	case utf8.Valid(raw):
		raw := string(raw)
		line.Raw = &raw
	default:
		line.RawBase64 = base64.StdEncoding.EncodeToString(raw)
	}
	buf := bytes.NewBuffer(dst)
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(line); err != nil {
		// Strings and ints always encode; keep the line anyway.
		fmt.Fprintf(buf, "{\"reason\":%q}\n", err.Error())
	}
	return buf.Bytes()
}

// Quarantine writes set-aside records to _errors/<table>/dt=<day>/<batch>.jsonl.
// It is safe for concurrent use when its Store is.
type Quarantine struct {
	store Store
}

// NewQuarantine returns a Quarantine writing to store.
func NewQuarantine(store Store) *Quarantine { return &Quarantine{store: store} }

// Write files recs under one object per (table, day), named by batchID,
// and returns what it wrote, in key order. Rewriting the same batch
// replaces the same objects. It stops at the first failed Put, returning
// the files written before it and a *KeyError.
func (q *Quarantine) Write(ctx context.Context, batchID string, recs []QuarantineRecord) ([]WrittenFile, error) {
	type group struct {
		key   string
		table string
		day   string
		recs  []int
	}
	byKey := map[string]*group{}
	for i, r := range recs {
		p := PartitionOf(r.EventTime, false)
		if p.Validate() != nil {
			p = PartitionOf(0, false) // a time no partition can name
		}
		key, err := QuarantineKey(r.Table, p.Day, batchID)
		if err != nil {
			return nil, err
		}
		g, ok := byKey[key]
		if !ok {
			table := r.Table
			if ValidateTable(table) != nil {
				table = UnknownTable
			}
			g = &group{key: key, table: table, day: p.Day}
			byKey[key] = g
		}
		g.recs = append(g.recs, i)
	}
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var out []WrittenFile
	var body []byte
	for _, k := range keys {
		g := byKey[k]
		body = body[:0]
		for _, i := range g.recs {
			body = AppendQuarantineLine(body, recs[i])
		}
		if err := q.store.Put(ctx, k, body); err != nil {
			return out, err
		}
		out = append(out, WrittenFile{Key: k, Table: g.table, Partition: Partition{Day: g.day},
			Rows: len(g.recs), Bytes: int64(len(body))})
	}
	return out, nil
}

// WriteInput lists the places where one input could not be read (recs,
// whose Raw is usually empty: the input itself is the raw data) in
// InputErrorKey(name). Rewriting the same name replaces the object.
func (q *Quarantine) WriteInput(ctx context.Context, name string, recs []QuarantineRecord) (WrittenFile, error) {
	key, err := InputErrorKey(name)
	if err != nil {
		return WrittenFile{}, err
	}
	var body []byte
	for _, r := range recs {
		body = AppendQuarantineLine(body, r)
	}
	if err := q.store.Put(ctx, key, body); err != nil {
		return WrittenFile{}, err
	}
	return WrittenFile{Key: key, Table: InputsDir, Rows: len(recs), Bytes: int64(len(body))}, nil
}
