package redact

import (
	"encoding/base64"
	"strconv"

	"github.com/valyala/fastjson"

	"github.com/ddblake/ddblake/flatten"
)

// isItemName reports whether a member of this name holds a DynamoDB
// item: a stream record's dynamodb.Keys, NewImage and OldImage, an
// incremental export line's Keys, NewImage and OldImage, a full export
// line's Item.
func isItemName(name string) bool {
	switch name {
	case "Keys", "NewImage", "OldImage", "Item":
		return true
	}
	return false
}

// withheld is what replaces something that cannot be read where an item
// or a record was expected.
const withheld = "null"

// Result is a record's bytes with the rules applied.
type Result struct {
	// Raw is what may be kept of the record: the input itself when
	// nothing in it is hidden; else the record with the rules applied;
	// nil when nothing of it can be kept.
	Raw []byte
	// Changed reports whether Raw differs from the input.
	Changed bool
	// Broken reports that the record, or the data of a Kinesis record,
	// is not valid JSON: Raw holds only what could be read before the
	// break, with the rules applied, as valid JSON.
	Broken bool
	// BrokenAt is the offset of the break in the record, or in the
	// decoded kinesis.data when BrokenInData; -1 when not Broken.
	BrokenAt     int
	BrokenInData bool
	// NotJSON reports that the part that is Broken is not valid JSON to
	// the decoders either (fastjson fails on it): their error then quotes
	// the bytes around the break, which may be hidden values.
	NotJSON bool
}

// Record applies rules to the raw bytes of a record of any input format:
// a DynamoDB stream record, a Kinesis record (its base64 data decoded,
// redacted and encoded again), a full or incremental export line, or a
// whole event. Every member named Keys, NewImage, OldImage or Item is
// read as an item: its attributes at omitted paths are removed, those at
// masked paths replaced by their masks ({"S":"<hex>"}, as the row holds
// them), and rules below a path are applied inside maps, lists and the
// JSON text of expand paths; a set, or a value that is not a valid
// attribute value, with a rule below its path is masked whole.
//
// A record (or Kinesis data) that is not valid JSON to its end keeps
// only its envelope fields read before the break (event name, id and
// source, table, sequence number, times): where a closer is missing, what
// follows is read one level too deep, and no path rule can be trusted.
//
// With no omit or mask rule, the input is returned as it is.
func Record(raw []byte, rules *flatten.Redactor) Result {
	if rules.Empty() {
		return Result{Raw: raw, BrokenAt: -1}
	}
	w := &walker{rules: rules}
	out, changed, d := w.document(raw)
	res := Result{Raw: out, Changed: changed, BrokenAt: -1}
	switch {
	case d.broken >= 0:
		res.Broken, res.BrokenAt = true, d.broken
		res.NotJSON = !validJSON(raw)
	case w.dataBroken >= 0:
		res.Broken, res.BrokenAt, res.BrokenInData = true, w.dataBroken, true
		res.NotJSON = w.dataNotJSON
	}
	return res
}

// validJSON reports whether fastjson, the decoders' parser, reads b.
func validJSON(b []byte) bool {
	var p fastjson.Parser
	_, err := p.ParseBytes(b)
	return err == nil
}

// walker applies the rules to one record.
type walker struct {
	rules       *flatten.Redactor
	dataBroken  int // where kinesis.data broke; -1 when it did not
	dataNotJSON bool
	depth       int // Kinesis data nested in Kinesis data
}

// document redacts one JSON document: its output (nil when nothing can
// be read), whether it differs from the input, and the parse.
func (w *walker) document(raw []byte) ([]byte, bool, *doc) {
	d := parse(raw)
	if w.depth == 0 {
		w.dataBroken = -1
	}
	if d.root == nil {
		return nil, len(raw) > 0, d
	}
	if d.broken >= 0 {
		// What was read of a broken record may be nested wrongly (a
		// closer missing before the break moves what follows into the
		// member before it), so the rules' paths cannot be trusted:
		// only the envelope is kept.
		if !w.envelope(d, d.root, "") {
			return nil, true, d
		}
		return d.emit(nil, d.root), true, d
	}
	if !w.record(d, d.root, "") {
		return raw, false, d
	}
	return d.emit(nil, d.root), true, d
}

// envelopeScalar reports whether a member named name, in a container
// named parent, is a field of a record's envelope that is kept, when it
// holds a number, a string or a literal, in a record that is not valid
// JSON. None of them can be an attribute value, which is always an
// object.
func envelopeScalar(parent, name string) bool {
	switch name {
	case "eventID", "eventName", "eventVersion", "eventSource", "eventSourceARN", "awsRegion",
		"recordFormat", "tableName", "ApproximateCreationDateTime", "ApproximateCreationDateTimePrecision",
		"SequenceNumber", "SizeBytes", "StreamViewType", "sequenceNumber", "kinesisSchemaVersion",
		"approximateArrivalTimestamp", "WriteTimestampMicros":
		return true
	case "type", "principalId":
		return parent == "userIdentity"
	case "N":
		return parent == "WriteTimestampMicros"
	}
	return false
}

// envelopeContainer reports whether a member named name holds a part of
// a record's envelope.
func envelopeContainer(name string) bool {
	switch name {
	case "", "Records", "dynamodb", "kinesis", "userIdentity", "Metadata", "WriteTimestampMicros":
		return true
	}
	return false
}

// envelope keeps, of a record that is not valid JSON, only the fields of
// its envelope, and the data of its Kinesis records (a document of its
// own, redacted as such). It reports whether anything is kept.
func (w *walker) envelope(d *doc, n *node, name string) bool {
	kept := false
	switch n.kind {
	case kindObject:
		for i := range n.members {
			m := &n.members[i]
			v := m.val
			switch {
			case v.kind == kindObject || v.kind == kindArray:
				m.drop = !envelopeContainer(m.key) || !w.envelope(d, v, m.key)
			case m.key == "data" && name == "kinesis" && v.kind == kindString && v.complete:
				w.kinesisData(d, v)
				m.drop = string(v.replace) == withheld
			default:
				m.drop = !v.complete || !envelopeScalar(name, m.key)
			}
			kept = kept || !m.drop
		}
	case kindArray:
		for i := range n.elems {
			e := &n.elems[i]
			e.drop = name != "Records" || (e.val.kind != kindObject) || !w.envelope(d, e.val, "")
			kept = kept || !e.drop
		}
	}
	n.dirty = true
	return kept || name == ""
}

// record looks through a record for items and Kinesis data.
func (w *walker) record(d *doc, n *node, parent string) bool {
	changed := false
	switch n.kind {
	case kindObject:
		for i := range n.members {
			m := &n.members[i]
			switch {
			case isItemName(m.key):
				switch m.val.kind {
				case kindObject:
					changed = w.attrs(d, m.val, nil) || changed
				case kindLiteral: // null
				default:
					m.val.replace = []byte(withheld)
					changed = true
				}
			case m.key == "data" && parent == "kinesis" && m.val.kind == kindString:
				changed = w.kinesisData(d, m.val) || changed
			default:
				changed = w.record(d, m.val, m.key) || changed
			}
		}
	case kindArray:
		for _, e := range n.elems {
			changed = w.record(d, e.val, "") || changed
		}
	}
	if changed {
		n.dirty = true
	}
	return changed
}

// kinesisData redacts the record held, in base64, by a Kinesis record's
// data string.
func (w *walker) kinesisData(d *doc, n *node) bool {
	s, ok := text(d.b, n)
	var data []byte
	var err error
	if ok {
		if data, err = base64.StdEncoding.DecodeString(s); err != nil {
			data, err = base64.RawStdEncoding.DecodeString(s)
		}
	}
	if !ok || err != nil || w.depth > 2 {
		n.replace = []byte(withheld)
		return true
	}
	w.depth++
	out, changed, inner := w.document(data)
	w.depth--
	if inner.broken >= 0 && w.dataBroken < 0 {
		w.dataBroken, w.dataNotJSON = inner.broken, !validJSON(data)
	}
	if !changed {
		return false
	}
	if out == nil {
		n.replace = []byte(withheld)
		return true
	}
	n.replace = flatten.AppendJSONString(nil, base64.StdEncoding.EncodeToString(out))
	return true
}

// attrs applies the rules to the attributes of an item or a map at path
// segs.
func (w *walker) attrs(d *doc, obj *node, segs []string) bool {
	changed := false
	for i := range obj.members {
		m := &obj.members[i]
		s := append(segs[:len(segs):len(segs)], m.key)
		switch w.rules.Action(s) {
		case flatten.Omit:
			m.drop, changed = true, true
		case flatten.Mask:
			m.val.replace = w.rules.MaskAttributeJSON(nil, d.b[m.val.start:m.val.end])
			changed = true
		case flatten.Descend:
			changed = w.attrValue(d, m.val, s) || changed
		}
	}
	if changed {
		obj.dirty = true
	}
	return changed
}

// attrValue applies the rules below segs inside one attribute value.
func (w *walker) attrValue(d *doc, av *node, segs []string) bool {
	whole := func() bool {
		av.replace = w.rules.MaskAttributeJSON(nil, d.b[av.start:av.end])
		return true
	}
	if av.kind != kindObject || len(av.members) != 1 {
		return whole()
	}
	tag, inner := av.members[0].key, av.members[0].val
	changed := false
	switch tag {
	case "M":
		if inner.kind != kindObject {
			return whole()
		}
		changed = w.attrs(d, inner, segs)
	case "L":
		if inner.kind != kindArray {
			return whole()
		}
		for i := range inner.elems {
			e := &inner.elems[i]
			s := append(segs[:len(segs):len(segs)], strconv.Itoa(i))
			switch w.rules.Action(s) {
			case flatten.Omit:
				e.drop, changed = true, true
			case flatten.Mask:
				e.val.replace = w.rules.MaskAttributeJSON(nil, d.b[e.val.start:e.val.end])
				changed = true
			case flatten.Descend:
				changed = w.attrValue(d, e.val, s) || changed
			}
		}
		if changed {
			inner.dirty = true
		}
	case "S":
		if !w.rules.Expands(segs) {
			return false
		}
		c, ok := w.expanded(d, inner, segs)
		if !ok {
			return whole()
		}
		changed = c
	case "N", "B", "BOOL", "NULL":
		return false // nothing inside
	default: // sets, and unknown tags
		return whole()
	}
	if changed {
		av.dirty = true
	}
	return changed
}

// expanded applies the rules below segs inside the JSON text of the
// string n (at an expand path). It is not ok when the text is not a JSON
// object: it cannot be walked.
func (w *walker) expanded(d *doc, n *node, segs []string) (changed, ok bool) {
	s, ok := text(d.b, n)
	if !ok {
		return false, false
	}
	inner := parse([]byte(s))
	if inner.broken >= 0 || inner.root == nil || inner.root.kind != kindObject {
		return false, false
	}
	if !w.plain(inner, inner.root, segs) {
		return false, true
	}
	n.replace = flatten.AppendJSONString(nil, string(inner.emit(nil, inner.root)))
	return true, true
}

// plain applies the rules below segs inside plain JSON (expanded text):
// object members are named by their keys, array elements by index.
func (w *walker) plain(d *doc, n *node, segs []string) bool {
	changed := false
	apply := func(v *node, seg string, drop *bool) {
		s := append(segs[:len(segs):len(segs)], seg)
		switch w.rules.Action(s) {
		case flatten.Omit:
			*drop, changed = true, true
		case flatten.Mask:
			v.replace = w.rules.MaskPlainJSON(nil, d.b[v.start:v.end])
			changed = true
		case flatten.Descend:
			switch v.kind {
			case kindObject, kindArray:
				changed = w.plain(d, v, s) || changed
			case kindString:
				if w.rules.Expands(s) {
					c, ok := w.expanded(d, v, s)
					if !ok {
						v.replace = w.rules.MaskPlainJSON(nil, d.b[v.start:v.end])
						c = true
					}
					changed = c || changed
				}
			}
		}
	}
	switch n.kind {
	case kindObject:
		for i := range n.members {
			apply(n.members[i].val, n.members[i].key, &n.members[i].drop)
		}
	case kindArray:
		for i := range n.elems {
			apply(n.elems[i].val, strconv.Itoa(i), &n.elems[i].drop)
		}
	}
	if changed {
		n.dirty = true
	}
	return changed
}
