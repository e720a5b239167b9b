package decode

import (
	"encoding/base64"
	"unicode/utf8"

	"github.com/ddblake/ddblake/flatten"
)

// jsonType is the type of a JSON value the fast path read.
type jsonType uint8

const (
	jsonAbsent jsonType = iota
	jsonString
	jsonNumber
	jsonObject
	jsonOther // an array, true, false
	jsonNull
)

// field is one field of a record's envelope: its type, and the text of a
// string (unescaped) or a number.
type field struct {
	t    jsonType
	text []byte
}

// image is one of a record's items.
type image struct {
	there bool // present and not null
	item  flatten.Item
}

// streamFields are what a stream record (a Records[] element, a jsonl
// line, the data of a Kinesis record) holds that decoding reads.
type streamFields struct {
	eventSource, eventSourceARN, eventName, eventID, tableName, awsRegion field
	records, kinesis, dynamodb, userIdentity                              field
	// In dynamodb.
	sequence, time, precision field
	keys, newImage, oldImage  image
	// In userIdentity.
	identityType, principal field
	// In kinesis.
	kinesisSeq, kinesisData field
}

// fastField reads the value at src[i] as a field.
func (r *fastReader) fastField(i int) (field, int, bool) {
	src := r.src
	if i >= len(src) {
		return field{}, 0, false
	}
	switch src[i] {
	case '"':
		s, end, ok := r.str(i)
		return field{t: jsonString, text: s}, end, ok
	case '{':
		end, ok := r.skip(i, 2)
		return field{t: jsonObject}, end, ok
	case 'n':
		end, ok := literal(src, i, "null")
		return field{t: jsonNull}, end, ok
	case '[', 't', 'f':
		end, ok := r.skip(i, 2)
		return field{t: jsonOther}, end, ok
	}
	end, ok := number(src, i)
	if !ok {
		return field{}, 0, false
	}
	return field{t: jsonNumber, text: src[i:end]}, end, true
}

// object reads the object at src[i] (at JSON depth), calling member for
// each of its fields with the offset of the value; member returns the
// offset after the value. It fails on a field named twice, and on a name
// with an escape (left to the parser).
func (r *fastReader) object(i, depth int, member func(name []byte, i int) (int, bool)) (int, bool) {
	src := r.src
	if i >= len(src) || src[i] != '{' {
		return 0, false
	}
	i = skipWS(src, i+1)
	if i < len(src) && src[i] == '}' {
		return i + 1, true
	}
	var names [12][]byte
	seen := names[:0]
	for {
		if i >= len(src) || src[i] != '"' {
			return 0, false
		}
		j := i + 1
		q := j
		for q < len(src) && src[q] != '"' && src[q] != '\\' {
			q++
		}
		if q >= len(src) || src[q] != '"' {
			return 0, false
		}
		name := src[j:q]
		for _, s := range seen {
			if string(s) == string(name) {
				return 0, false // duplicate_key
			}
		}
		seen = append(seen, name)
		if i = skipWS(src, q+1); i >= len(src) || src[i] != ':' {
			return 0, false
		}
		var ok bool
		if i, ok = member(name, skipWS(src, i+1)); !ok {
			return 0, false
		}
		next, done, ok := after(src, i, '}')
		if !ok || done {
			return next, ok
		}
		i = next
	}
}

// fastImage reads an image field (Keys, NewImage, OldImage, Item): null,
// or an item.
func (r *fastReader) fastImage(i int, im *image, build bool) (int, bool) {
	if i < len(r.src) && r.src[i] == 'n' {
		*im = image{}
		return literal(r.src, i, "null")
	}
	it, end, ok := r.item(i, build)
	*im = image{there: true, item: it}
	return end, ok
}

// streamObject reads a stream record's object at src[i]; top is set for
// a record read on its own (not the data of a Kinesis record), whose
// Records and kinesis fields matter.
func (d *Decoder) streamObject(i int, f *streamFields, top bool) (int, bool) {
	r := &d.fast
	return r.object(i, 1, func(name []byte, i int) (int, bool) {
		var dst *field
		switch string(name) {
		case "eventSource":
			dst = &f.eventSource
		case "eventSourceARN":
			dst = &f.eventSourceARN
		case "eventName":
			dst = &f.eventName
		case "eventID":
			dst = &f.eventID
		case "tableName":
			dst = &f.tableName
		case "awsRegion":
			dst = &f.awsRegion
		case "Records":
			if top {
				dst = &f.records
			}
		case "kinesis":
			if top {
				f.kinesis.t = jsonOther
				if i < len(r.src) && r.src[i] == '{' {
					f.kinesis.t = jsonObject
					return d.kinesisObject(i, f)
				}
				return r.skip(i, 2)
			}
		case "dynamodb":
			f.dynamodb.t = jsonOther
			if i < len(r.src) && r.src[i] == '{' {
				f.dynamodb.t = jsonObject
				return d.dynamodbObject(i, f)
			}
			return r.skip(i, 2)
		case "userIdentity":
			f.userIdentity.t = jsonOther
			if i < len(r.src) && r.src[i] == '{' {
				f.userIdentity.t = jsonObject
				return r.object(i, 2, func(name []byte, i int) (int, bool) {
					var end int
					var ok bool
					switch string(name) {
					case "type":
						f.identityType, end, ok = r.fastField(i)
					case "principalId":
						f.principal, end, ok = r.fastField(i)
					default:
						end, ok = r.skip(i, 3)
					}
					return end, ok
				})
			}
			return r.skip(i, 2)
		}
		if dst == nil {
			return r.skip(i, 2)
		}
		var end int
		var ok bool
		*dst, end, ok = r.fastField(i)
		return end, ok
	})
}

// dynamodbObject reads a stream record's dynamodb object at src[i].
func (d *Decoder) dynamodbObject(i int, f *streamFields) (int, bool) {
	r := &d.fast
	return r.object(i, 2, func(name []byte, i int) (int, bool) {
		var end int
		var ok bool
		switch string(name) {
		case "SequenceNumber":
			f.sequence, end, ok = r.fastField(i)
		case "ApproximateCreationDateTime":
			f.time, end, ok = r.fastField(i)
		case "ApproximateCreationDateTimePrecision":
			f.precision, end, ok = r.fastField(i)
		case "Keys":
			end, ok = r.fastImage(i, &f.keys, true)
		case "NewImage":
			end, ok = r.fastImage(i, &f.newImage, true)
		case "OldImage":
			// Only checked when no row can use it (see
			// Options.UnusedOldImages); a NewImage after it drops it.
			end, ok = r.fastImage(i, &f.oldImage, !(d.opts.UnusedOldImages && f.newImage.there))
		default:
			end, ok = r.skip(i, 3)
		}
		return end, ok
	})
}

// kinesisObject reads a Kinesis record's kinesis object at src[i].
func (d *Decoder) kinesisObject(i int, f *streamFields) (int, bool) {
	r := &d.fast
	return r.object(i, 2, func(name []byte, i int) (int, bool) {
		var end int
		var ok bool
		switch string(name) {
		case "sequenceNumber":
			f.kinesisSeq, end, ok = r.fastField(i)
		case "data":
			f.kinesisData, end, ok = r.fastField(i)
		default:
			end, ok = r.skip(i, 3)
		}
		return end, ok
	})
}

// fastDocument reads raw, a whole JSON text holding one object, with
// read; it fails on anything after the object.
func (d *Decoder) fastDocument(raw []byte, read func(i int) (int, bool)) bool {
	if len(raw) > flatten.MaxItemBytes {
		return false // its items may be over DynamoDB's limit: the parser checks them
	}
	d.fast.src = raw
	end, ok := read(skipWS(raw, 0))
	return ok && skipWS(raw, end) == len(raw)
}

// fastElement is decodeElement's fast path: the record, or false to
// leave raw to the parser.
func (d *Decoder) fastElement(raw []byte, want Format) (*ChangeRecord, bool) {
	defer d.fast.release()
	var f streamFields
	if !d.fastDocument(raw, func(i int) (int, bool) { return d.streamObject(i, &f, true) }) {
		return nil, false
	}
	return d.fastFields(&f, want)
}

// fastElementAt is fastElement of the element of a document that starts
// at buf[start] (an object): the record and the offset after it.
func (d *Decoder) fastElementAt(buf []byte, start int, want Format) (*ChangeRecord, int, bool) {
	defer d.fast.release()
	var f streamFields
	d.fast.src = buf
	end, ok := d.streamObject(start, &f, true)
	if !ok || end-start > flatten.MaxItemBytes {
		return nil, 0, false
	}
	rec, ok := d.fastFields(&f, want)
	return rec, end, ok
}

// fastFields is fastElement of the fields read.
func (d *Decoder) fastFields(f *streamFields, want Format) (*ChangeRecord, bool) {
	if f.records.t != jsonAbsent {
		return nil, false
	}
	rec := d.newRecord()
	if f.kinesis.t != jsonAbsent {
		if want == FormatLambda || !d.fastKinesis(f, rec) {
			return nil, false
		}
		return rec, true
	}
	if want == FormatKinesis || !d.fastStream(f, rec, f.tableName.t != jsonAbsent) {
		return nil, false
	}
	return rec, true
}

// recordChunk is how many records newRecord cuts from one allocation.
const recordChunk = 64

// newRecord returns a new zero record, cut from a chunk of records that
// the decoder hands out one by one and never again: one allocation for
// many records. A record the fast path drops after all is just left
// unused.
func (d *Decoder) newRecord() *ChangeRecord {
	if len(d.recs) == 0 {
		d.recs = make([]ChangeRecord, recordChunk)
	}
	rec := &d.recs[0]
	d.recs = d.recs[1:]
	return rec
}

// fastKinesis is decodeKinesis's fast path.
func (d *Decoder) fastKinesis(f *streamFields, rec *ChangeRecord) bool {
	if f.eventSource.t != jsonAbsent && (f.eventSource.t != jsonString || string(f.eventSource.text) != "aws:kinesis") {
		return false
	}
	if f.kinesis.t != jsonObject || f.kinesisSeq.t != jsonString || !validDigits(f.kinesisSeq.text, 128) || f.kinesisData.t != jsonString {
		return false
	}
	var arn []byte
	if f.eventSourceARN.t == jsonString {
		arn = f.eventSourceARN.text
	}
	seq := string(f.kinesisSeq.text)
	text := f.kinesisData.text
	// The data is decoded into memory of its own: the Items read from it
	// share it.
	n := base64.RawStdEncoding.DecodedLen(len(text)) + 2
	data := make([]byte, n)
	m, err := base64.StdEncoding.Decode(data, text)
	if err != nil {
		if m, err = base64.RawStdEncoding.Decode(data, text); err != nil {
			return false
		}
	}
	data = data[:m]
	src := d.fast.src
	var inner streamFields
	ok := d.fastDocument(data, func(i int) (int, bool) { return d.streamObject(i, &inner, false) })
	d.fast.src = src
	if !ok || !d.fastStream(&inner, rec, true) {
		return false
	}
	rec.Sequence = seq
	account, region := d.streamSource(arn)
	if account == "" {
		rec.Region = ""
		return true
	}
	rec.Account = account
	if rec.Region == "" {
		rec.Region = region
	}
	return true
}

// fastStream is readStreamRecord's fast path: a DynamoDB stream record
// (kinesisData false) or a DynamoDB-for-Kinesis record (true).
func (d *Decoder) fastStream(f *streamFields, rec *ChangeRecord, kinesisData bool) bool {
	if f.eventSource.t == jsonString && string(f.eventSource.text) != "aws:dynamodb" ||
		f.eventSource.t != jsonAbsent && f.eventSource.t != jsonString {
		return false
	}
	// Table.
	var err error
	if kinesisData {
		if f.tableName.t != jsonString || !ValidTableName(string(f.tableName.text)) {
			return false
		}
		rec.Table = d.intern(f.tableName.text)
		if f.awsRegion.t == jsonString && validRegion(f.awsRegion.text) {
			if d.dataRegion != string(f.awsRegion.text) {
				d.dataRegion = string(f.awsRegion.text)
			}
			rec.Region = d.dataRegion
		}
	} else {
		switch {
		case f.eventSourceARN.t == jsonString && len(f.eventSourceARN.text) > 0:
			if rec.Table, err = d.tableFromARN(f.eventSourceARN.text); err != nil {
				return false
			}
			rec.Account, rec.Region = d.account, d.region
		case f.eventSourceARN.t == jsonAbsent && d.opts.Table != "":
			rec.Table = d.opts.Table
		default:
			return false
		}
	}
	// Event name and id.
	if f.eventName.t != jsonString {
		return false
	}
	switch string(f.eventName.text) {
	case EventInsert:
		rec.EventName = EventInsert
	case EventModify:
		rec.EventName = EventModify
	case EventRemove:
		rec.EventName = EventRemove
	default:
		return false
	}
	switch f.eventID.t {
	case jsonAbsent, jsonNull:
	case jsonString:
		if len(f.eventID.text) > maxEventIDBytes || !utf8.Valid(f.eventID.text) {
			return false
		}
		rec.EventID = string(f.eventID.text)
	default:
		return false
	}
	if f.dynamodb.t != jsonObject {
		return false
	}
	// Sequence number (the Kinesis one is set by the caller).
	if !kinesisData {
		if f.sequence.t != jsonString || !validDigits(f.sequence.text, 40) {
			return false
		}
		rec.Sequence = string(f.sequence.text)
	}
	// Event time.
	unit := unitSeconds
	if kinesisData {
		unit = unitMillis
		switch {
		case f.precision.t == jsonAbsent:
		case f.precision.t != jsonString:
			return false
		case string(f.precision.text) == "MICROSECOND":
			unit = unitMicros
		case string(f.precision.text) != "MILLISECOND":
			return false
		}
	}
	switch f.time.t {
	case jsonNumber:
		rec.EventTimeMicros, err = timeNumber(f.time.text, unit)
	case jsonString:
		rec.EventTimeMicros, err = timeString(f.time.text, unit)
	default:
		return false
	}
	if err != nil {
		return false
	}
	// Images.
	if !f.keys.there && !f.newImage.there && !f.oldImage.there {
		return false
	}
	rec.Keys, rec.NewImage, rec.OldImage = f.keys.item, f.newImage.item, f.oldImage.item
	if d.opts.UnusedOldImages && f.newImage.there {
		rec.OldImage = flatten.Item{}
	}
	rec.TTLDelete = rec.EventName == EventRemove && f.userIdentity.t == jsonObject &&
		f.identityType.t == jsonString && string(f.identityType.text) == "Service" &&
		f.principal.t == jsonString && string(f.principal.text) == "dynamodb.amazonaws.com"
	return true
}

// fastItemLine is decodeItemLine's fast path.
func (d *Decoder) fastItemLine(raw []byte, mode lineMode) (*ChangeRecord, bool) {
	defer d.fast.release()
	var it image
	r := &d.fast
	ok := d.fastDocument(raw, func(i int) (int, bool) {
		return r.object(i, 1, func(name []byte, i int) (int, bool) {
			if string(name) == "Item" {
				return r.fastImage(i, &it, true)
			}
			return r.skip(i, 2)
		})
	})
	if !ok || !it.there {
		return nil, false
	}
	rec := d.newRecord()
	*rec = ChangeRecord{Table: mode.table, Account: mode.account, Region: mode.region, EventName: EventSnapshot,
		EventTimeMicros: mode.time, NewImage: it.item}
	return rec, true
}

// fastIncrementalLine is decodeIncrementalLine's fast path.
func (d *Decoder) fastIncrementalLine(raw []byte, mode lineMode) (*ChangeRecord, bool) {
	defer d.fast.release()
	var (
		meta, ts              field
		keys, newImage, old   image
		r                     = &d.fast
		tsObject, tsN, tsDupN bool
	)
	ok := d.fastDocument(raw, func(i int) (int, bool) {
		return r.object(i, 1, func(name []byte, i int) (int, bool) {
			switch string(name) {
			case "Metadata":
				meta.t = jsonOther
				if i >= len(r.src) || r.src[i] != '{' {
					return r.skip(i, 2)
				}
				meta.t = jsonObject
				return r.object(i, 2, func(name []byte, i int) (int, bool) {
					if string(name) != "WriteTimestampMicros" {
						return r.skip(i, 3)
					}
					if i >= len(r.src) || r.src[i] != '{' {
						var end int
						var ok bool
						ts, end, ok = r.fastField(i)
						return end, ok
					}
					tsObject = true
					// {"N":"..."}: the parser reads its first N.
					end, ok := r.object(i, 3, func(name []byte, i int) (int, bool) {
						if string(name) != "N" {
							return r.skip(i, 4)
						}
						tsDupN = tsDupN || tsN
						tsN = true
						var end int
						var ok bool
						ts, end, ok = r.fastField(i)
						return end, ok
					})
					return end, ok
				})
			case "Keys":
				return r.fastImage(i, &keys, true)
			case "NewImage":
				return r.fastImage(i, &newImage, true)
			case "OldImage":
				return r.fastImage(i, &old, !(d.opts.UnusedOldImages && newImage.there))
			}
			return r.skip(i, 2)
		})
	})
	if !ok || meta.t != jsonObject || tsDupN || tsObject && ts.t != jsonString {
		return nil, false
	}
	var t int64
	var err error
	switch ts.t {
	case jsonNumber:
		t, err = timeNumber(ts.text, unitMicros)
	case jsonString:
		t, err = timeString(ts.text, unitMicros)
	default:
		return nil, false
	}
	if err != nil || !keys.there {
		return nil, false
	}
	rec := d.newRecord()
	*rec = ChangeRecord{Table: mode.table, Account: mode.account, Region: mode.region, EventTimeMicros: t,
		Keys: keys.item, NewImage: newImage.item, OldImage: old.item}
	if d.opts.UnusedOldImages && newImage.there {
		rec.OldImage = flatten.Item{}
	}
	switch {
	case newImage.there && !old.there:
		rec.EventName = EventInsert
	case newImage.there:
		rec.EventName = EventModify
	default:
		rec.EventName = EventRemove
	}
	return rec, true
}
