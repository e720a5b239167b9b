package decode

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unsafe"

	"github.com/ddblake/ddblake/flatten"
	"github.com/valyala/fastjson"
	"github.com/valyala/fastjson/fastfloat"
)

// Time units of the timestamps, as powers of ten below a second.
const (
	unitSeconds = 0
	unitMillis  = 3
	unitMicros  = 6
)

// maxMicros is the first instant of year 10000, in Unix microseconds:
// event times are below it (partitions name years 0000-9999).
const maxMicros = 253402300800 * 1e6

// decodeElement decodes one record of a stream: a DynamoDB stream record
// (a Records[] element of a Lambda event or a jsonl line), a Kinesis
// event record wrapping a DynamoDB-for-Kinesis record, or such a record
// on its own (it has tableName). want restricts the kind for documents
// read with an explicit format. The caller sets Source, Index and Raw.
func (d *Decoder) decodeElement(raw []byte, want Format) (*ChangeRecord, *RecordError) {
	if !d.parserOnly {
		if rec, ok := d.fastElement(raw, want); ok {
			return rec, nil
		}
	}
	v, err := d.outer.ParseBytes(raw)
	if err != nil {
		return nil, &RecordError{Err: fmt.Errorf("%w: not valid JSON: %v", ErrBadRecord, err)}
	}
	if v.Type() != fastjson.TypeObject {
		return nil, &RecordError{Err: fmt.Errorf("%w: want an object, got %s", ErrBadRecord, v.Type())}
	}
	if v.Get("Records") != nil {
		return nil, &RecordError{Err: fmt.Errorf("%w: a whole event, not one record (read the input with format auto or lambda)", ErrBadRecord)}
	}
	d.big = len(raw) > flatten.MaxItemBytes
	rec := &ChangeRecord{}
	rerr := &RecordError{}
	if err := d.checkKeys(v, rerr, ""); err != nil {
		rerr.Err = err
		d.guessTime(v, rerr)
		return nil, rerr
	}
	if k := v.Get("kinesis"); k != nil {
		if want == FormatLambda {
			rerr.Err = fmt.Errorf("%w: a Kinesis record in a DynamoDB stream event", ErrBadRecord)
			return nil, rerr
		}
		if err := d.decodeKinesis(v, k, rec, rerr); err != nil {
			rerr.Err = err
			return nil, rerr
		}
	} else {
		if want == FormatKinesis {
			rerr.Err = fmt.Errorf("%w: record has no \"kinesis\" object", ErrBadRecord)
			return nil, rerr
		}
		kinesisData := v.Get("tableName") != nil
		if err := d.decodeStreamRecord(v, rec, rerr, kinesisData, ""); err != nil {
			rerr.Err = err
			return nil, rerr
		}
	}
	// The escapes are checked last, so that a record set aside for one
	// has its table and time.
	if err := checkEscapes(raw, rerr, ""); err != nil {
		rerr.Err = err
		return nil, rerr
	}
	return rec, nil
}

// decodeKinesis reads a Kinesis event record: its sequence number and
// its base64 data, a DynamoDB-for-Kinesis record.
func (d *Decoder) decodeKinesis(v, k *fastjson.Value, rec *ChangeRecord, rerr *RecordError) error {
	if src := v.GetStringBytes("eventSource"); src != nil && string(src) != "aws:kinesis" {
		return fmt.Errorf("%w: eventSource %q is not aws:kinesis", ErrBadRecord, clip(src))
	}
	if k.Type() != fastjson.TypeObject {
		rerr.Path = "kinesis"
		return fmt.Errorf("%w: kinesis is %s, want an object", ErrBadRecord, k.Type())
	}
	if at := k.Get("approximateArrivalTimestamp"); at != nil {
		// Dates the record in the quarantine when what it carries cannot
		// be read; the time inside the data replaces it.
		if t, err := d.timeMicros(at, unitSeconds); err == nil {
			rerr.EventTimeMicros = t
		}
	}
	if err := d.checkKeys(k, rerr, "kinesis."); err != nil {
		return err
	}
	seq := k.GetStringBytes("sequenceNumber")
	if !validDigits(seq, 128) {
		rerr.Path = "kinesis.sequenceNumber"
		return seqErr(seq, k.Get("sequenceNumber"), 128)
	}
	rec.Sequence = string(seq)
	rerr.Sequence = rec.Sequence
	data := k.GetStringBytes("data")
	if data == nil {
		rerr.Path = "kinesis.data"
		return fmt.Errorf("%w: no kinesis.data string", ErrBadRecord)
	}
	// Unpadded base64 decodes to more bytes than StdEncoding.DecodedLen
	// allows for; size the buffer for either.
	n := base64.RawStdEncoding.DecodedLen(len(data)) + 2
	if cap(d.data) < n {
		d.data = make([]byte, n)
	}
	m, err := base64.StdEncoding.Decode(d.data[:n], data)
	if err != nil {
		if m, err = base64.RawStdEncoding.Decode(d.data[:n], data); err != nil {
			rerr.Path = "kinesis.data"
			return fmt.Errorf("%w: kinesis.data is not base64: %v", ErrBadRecord, err)
		}
	}
	iv, err := d.inner.ParseBytes(d.data[:m])
	if err != nil {
		rerr.Path = "kinesis.data"
		return fmt.Errorf("%w: kinesis.data is not valid JSON: %v", ErrBadRecord, err)
	}
	if iv.Type() != fastjson.TypeObject {
		rerr.Path = "kinesis.data"
		return fmt.Errorf("%w: kinesis.data holds %s, want an object", ErrBadRecord, iv.Type())
	}
	d.big = m > flatten.MaxItemBytes
	if err := d.checkKeys(iv, rerr, "kinesis.data."); err != nil {
		d.guessTime(iv, rerr)
		return err
	}
	if err := d.decodeStreamRecord(iv, rec, rerr, true, "kinesis.data."); err != nil {
		return err
	}
	if err := checkEscapes(d.data[:m], rerr, "kinesis.data."); err != nil {
		return err
	}
	// The table's account is the stream's (a table streams to a Kinesis
	// stream of its own account); its region is the record's awsRegion,
	// else the stream's.
	account, region := d.streamSource(v.GetStringBytes("eventSourceARN"))
	if account == "" {
		rec.Region = "" // a region alone does not tell one table from another
		return nil
	}
	rec.Account = account
	if rec.Region == "" {
		rec.Region = region
	}
	return nil
}

// decodeStreamRecord reads a DynamoDB stream record (kinesisData false)
// or a DynamoDB-for-Kinesis record (true). at prefixes error paths. A
// record that cannot be read still has its event time in rerr when that
// can be read, so that the quarantine files it under its day.
func (d *Decoder) decodeStreamRecord(v *fastjson.Value, rec *ChangeRecord, rerr *RecordError, kinesisData bool, at string) error {
	err := d.readStreamRecord(v, rec, rerr, kinesisData, at)
	if err != nil && rec.EventTimeMicros == 0 {
		d.guessTime(v, rerr)
	}
	return err
}

// guessTime puts the event time of the stream record v in rerr when it
// can be read, for a record that is set aside for another reason.
func (d *Decoder) guessTime(v *fastjson.Value, rerr *RecordError) {
	ddb := v.Get("dynamodb")
	if ddb == nil || ddb.Type() != fastjson.TypeObject {
		return
	}
	unit := unitSeconds
	if v.Get("tableName") != nil {
		unit = unitMillis
		if string(ddb.GetStringBytes("ApproximateCreationDateTimePrecision")) == "MICROSECOND" {
			unit = unitMicros
		}
	}
	if t, err := d.timeMicros(ddb.Get("ApproximateCreationDateTime"), unit); err == nil {
		rerr.EventTimeMicros = t
	}
}

// readStreamRecord is decodeStreamRecord without the time of a failure.
func (d *Decoder) readStreamRecord(v *fastjson.Value, rec *ChangeRecord, rerr *RecordError, kinesisData bool, at string) error {
	if src := v.GetStringBytes("eventSource"); src != nil && string(src) != "aws:dynamodb" {
		rerr.Path = at + "eventSource"
		return fmt.Errorf("%w: eventSource %q is not aws:dynamodb", ErrBadRecord, clip(src))
	}
	// Table.
	var err error
	if kinesisData {
		name := v.GetStringBytes("tableName")
		if name == nil {
			rerr.Path = at + "tableName"
			return fmt.Errorf("%w: no tableName", ErrBadTable)
		}
		if !ValidTableName(string(name)) {
			rerr.Path = at + "tableName"
			return fmt.Errorf("%w: %q", ErrBadTable, clip(name))
		}
		rec.Table = d.intern(name)
		if r := v.GetStringBytes("awsRegion"); validRegion(r) {
			if d.dataRegion != string(r) {
				d.dataRegion = string(r)
			}
			rec.Region = d.dataRegion
		}
	} else {
		arn := v.GetStringBytes("eventSourceARN")
		switch {
		case arn != nil:
			if rec.Table, err = d.tableFromARN(arn); err != nil {
				rerr.Path = at + "eventSourceARN"
				return err
			}
			rec.Account, rec.Region = d.account, d.region
		case d.opts.Table != "":
			rec.Table = d.opts.Table
		default:
			rerr.Path = at + "eventSourceARN"
			return fmt.Errorf("%w: no eventSourceARN to name the table", ErrBadTable)
		}
	}
	rerr.Table = rec.Table
	// Event name and id.
	if rec.EventName, err = eventName(v.GetStringBytes("eventName"), v.Get("eventName")); err != nil {
		rerr.Path = at + "eventName"
		return err
	}
	if rec.EventID, err = eventID(v.Get("eventID")); err != nil {
		rerr.Path = at + "eventID"
		return err
	}
	ddb := v.Get("dynamodb")
	if ddb == nil || ddb.Type() != fastjson.TypeObject {
		rerr.Path = at + "dynamodb"
		return fmt.Errorf("%w: no dynamodb object", ErrBadRecord)
	}
	if err := d.checkKeys(ddb, rerr, at+"dynamodb."); err != nil {
		return err
	}
	if u := v.Get("userIdentity"); u != nil {
		if err := d.checkKeys(u, rerr, at+"userIdentity."); err != nil {
			return err
		}
	}
	// Sequence number (the Kinesis one is set by the caller).
	if !kinesisData {
		sv := ddb.Get("SequenceNumber")
		var seq []byte
		if sv != nil && sv.Type() == fastjson.TypeString {
			seq, _ = sv.StringBytes()
		}
		if !validDigits(seq, 40) {
			rerr.Path = at + "dynamodb.SequenceNumber"
			return seqErr(seq, sv, 40)
		}
		rec.Sequence = string(seq)
		rerr.Sequence = rec.Sequence
	}
	// Event time.
	unit := unitSeconds
	if kinesisData {
		unit = unitMillis
		if p := ddb.GetStringBytes("ApproximateCreationDateTimePrecision"); p != nil {
			switch string(p) {
			case "MICROSECOND":
				unit = unitMicros
			case "MILLISECOND":
			default:
				rerr.Path = at + "dynamodb.ApproximateCreationDateTimePrecision"
				return fmt.Errorf("%w: precision %q, want MILLISECOND or MICROSECOND", ErrBadTime, clip(p))
			}
		}
	}
	if rec.EventTimeMicros, err = d.timeMicros(ddb.Get("ApproximateCreationDateTime"), unit); err != nil {
		rerr.Path = at + "dynamodb.ApproximateCreationDateTime"
		return err
	}
	rerr.EventTimeMicros = rec.EventTimeMicros
	// Images.
	if _, err := d.parseImage(ddb, "Keys", &rec.Keys, rerr, at+"dynamodb."); err != nil {
		return err
	}
	if _, err := d.parseImage(ddb, "NewImage", &rec.NewImage, rerr, at+"dynamodb."); err != nil {
		return err
	}
	old := &rec.OldImage
	if d.opts.UnusedOldImages && !rec.NewImage.IsZero() {
		old = nil // checked only
	}
	hasOld, err := d.parseImage(ddb, "OldImage", old, rerr, at+"dynamodb.")
	if err != nil {
		return err
	}
	if rec.Keys.IsZero() && rec.NewImage.IsZero() && !hasOld {
		rerr.Path = at + "dynamodb"
		return fmt.Errorf("%w: no Keys, NewImage or OldImage", ErrBadRecord)
	}
	rec.TTLDelete = rec.EventName == EventRemove && isTTLIdentity(v.Get("userIdentity"))
	return nil
}

// parseImage reads the item obj[name] into *dst, leaving it zero when the
// field is absent or null, and reports whether it is there. With dst nil
// the item is checked as it would be read, but not kept.
func (d *Decoder) parseImage(obj *fastjson.Value, name string, dst *flatten.Item, rerr *RecordError, at string) (bool, error) {
	iv := obj.Get(name)
	if iv == nil || iv.Type() == fastjson.TypeNull {
		return false, nil
	}
	if d.big {
		// Only a record over 400 KB of JSON can hold an item over 400 KB:
		// JSON text is never shorter than what DynamoDB counts.
		if n := flatten.ItemSize(iv, flatten.MaxItemBytes); n > flatten.MaxItemBytes {
			rerr.Path = at + name
			return true, fmt.Errorf("%w: more than %d bytes", ErrItemTooLarge, flatten.MaxItemBytes)
		}
	}
	var attrs []flatten.Attr
	var err error
	if dst == nil {
		err = d.items.CheckItem(iv)
	} else {
		attrs, err = d.items.ParseItem(iv)
	}
	if err != nil {
		var ae *flatten.AttrError
		if errors.As(err, &ae) && ae.Path != "" {
			rerr.Path = at + name + "." + ae.Path
		} else {
			rerr.Path = at + name
		}
		return true, err
	}
	if dst == nil {
		return true, nil
	}
	if attrs == nil {
		attrs = []flatten.Attr{}
	}
	*dst = flatten.ItemOf(attrs)
	return true, nil
}

// isTTLIdentity reports whether u is DynamoDB's own service identity, the
// mark of a TTL deletion.
func isTTLIdentity(u *fastjson.Value) bool {
	if u == nil || u.Type() != fastjson.TypeObject {
		return false
	}
	return string(u.GetStringBytes("type")) == "Service" &&
		string(u.GetStringBytes("principalId")) == "dynamodb.amazonaws.com"
}

// eventName maps a stream record's eventName to its constant.
func eventName(b []byte, v *fastjson.Value) (string, error) {
	switch string(b) {
	case EventInsert:
		return EventInsert, nil
	case EventModify:
		return EventModify, nil
	case EventRemove:
		return EventRemove, nil
	}
	if v == nil {
		return "", fmt.Errorf("%w: no eventName", ErrBadRecord)
	}
	if b == nil {
		return "", fmt.Errorf("%w: eventName is %s, want a string", ErrBadEventName, v.Type())
	}
	return "", fmt.Errorf("%w: %q", ErrBadEventName, clip(b))
}

// tableFromARN reads the table name of a DynamoDB ARN
// (arn:PARTITION:dynamodb:REGION:ACCOUNT:table/NAME[/stream/...]), and
// keeps its account and region in d.account and d.region ("" when they
// are not a 12-digit account and a region name).
func (d *Decoder) tableFromARN(arn []byte) (string, error) {
	if d.table != "" && bytes.Equal(arn, d.arn) {
		return d.table, nil
	}
	a, ok := parseTableARN(arn)
	if !ok {
		return "", fmt.Errorf("%w: ARN %q does not name a DynamoDB table", ErrBadTable, clip(arn))
	}
	if !ValidTableName(string(a.name)) {
		return "", fmt.Errorf("%w: %q (from ARN %q)", ErrBadTable, clip(a.name), clip(arn))
	}
	d.arn = append(d.arn[:0], arn...)
	d.table = string(a.name)
	d.account, d.region = a.source()
	return d.table, nil
}

// streamSource returns the account and region of a Kinesis stream ARN
// (arn:PARTITION:kinesis:REGION:ACCOUNT:stream/NAME), or "" for both.
func (d *Decoder) streamSource(arn []byte) (account, region string) {
	if len(arn) == 0 {
		return "", ""
	}
	if !bytes.Equal(arn, d.streamARN) {
		d.streamARN = append(d.streamARN[:0], arn...)
		d.streamAccount, d.streamRegion = "", ""
		if p, ok := splitARN(arn); ok && string(p.service) == "kinesis" {
			d.streamAccount, d.streamRegion = p.source()
		}
	}
	return d.streamAccount, d.streamRegion
}

// arnParts are the fields of arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE.
type arnParts struct {
	service, region, account, resource []byte
	name                               []byte // the table name of a DynamoDB ARN
}

// source returns the account and region, or "" for both when either is
// not well formed.
func (p arnParts) source() (account, region string) {
	if !validAccount(p.account) || !validRegion(p.region) {
		return "", ""
	}
	return string(p.account), string(p.region)
}

// splitARN splits an ARN into its fields.
func splitARN(arn []byte) (arnParts, bool) {
	rest := arn
	var parts [5][]byte
	for i := 0; i < 5; i++ {
		j := bytes.IndexByte(rest, ':')
		if j < 0 {
			return arnParts{}, false
		}
		parts[i], rest = rest[:j], rest[j+1:]
	}
	if string(parts[0]) != "arn" {
		return arnParts{}, false
	}
	return arnParts{service: parts[2], region: parts[3], account: parts[4], resource: rest}, true
}

// parseTableARN reads arn:P:dynamodb:R:A:table/NAME[/...].
func parseTableARN(arn []byte) (arnParts, bool) {
	p, ok := splitARN(arn)
	if !ok || string(p.service) != "dynamodb" {
		return arnParts{}, false
	}
	name, ok := bytes.CutPrefix(p.resource, []byte("table/"))
	if !ok {
		return arnParts{}, false
	}
	if j := bytes.IndexByte(name, '/'); j >= 0 {
		name = name[:j]
	}
	p.name = name
	return p, true
}

// validAccount reports whether b is an AWS account id: 12 digits.
func validAccount(b []byte) bool { return len(b) == 12 && validDigits(b, 12) }

// validRegion reports whether b looks like a region name: 1-32 of
// [a-z0-9-], starting with a letter (us-east-1, cn-north-1, us-gov-west-1).
func validRegion(b []byte) bool {
	if len(b) == 0 || len(b) > 32 || b[0] < 'a' || b[0] > 'z' {
		return false
	}
	for _, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// intern returns name as a string, reusing the last one when equal.
func (d *Decoder) intern(name []byte) string {
	if d.name != string(name) {
		d.name = string(name)
	}
	return d.name
}

// validDigits reports whether b is 1 to max ASCII digits.
func validDigits(b []byte, max int) bool {
	if len(b) == 0 || len(b) > max {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func seqErr(seq []byte, v *fastjson.Value, max int) error {
	switch {
	case v == nil:
		return fmt.Errorf("%w: missing", ErrBadSequence)
	case v.Type() != fastjson.TypeString:
		return fmt.Errorf("%w: %s, want a string of digits", ErrBadSequence, v.Type())
	}
	return fmt.Errorf("%w: %q is not 1 to %d digits", ErrBadSequence, clip(seq), max)
}

// timeMicros reads a time given in units of 10^-unit seconds as a JSON
// number or a string holding a number; a string may also be an RFC 3339
// time. The result is Unix microseconds, fractions below a microsecond
// dropped.
func (d *Decoder) timeMicros(v *fastjson.Value, unit int) (int64, error) {
	if v == nil {
		return 0, fmt.Errorf("%w: missing", ErrBadTime)
	}
	switch v.Type() {
	case fastjson.TypeNumber:
		d.num = v.MarshalTo(d.num[:0])
		return timeNumber(d.num, unit)
	case fastjson.TypeString:
		text, _ := v.StringBytes()
		return timeString(text, unit)
	}
	return 0, fmt.Errorf("%w: %s, want a number", ErrBadTime, v.Type())
}

// timeNumber reads a time given as the text of a JSON number, in units of
// 10^-unit seconds; see timeMicros.
func timeNumber(text []byte, unit int) (int64, error) {
	if n, ok := digitsInt64(text); ok {
		return scaleMicros(n, unit)
	}
	// The parse only reads its input, and its error is dropped; text
	// with a fraction or an exponent, which it refuses, is not given to
	// it, as its error costs an allocation.
	if bytes.IndexAny(text, ".eE") < 0 {
		if n, err := fastfloat.ParseInt64(unsafe.String(unsafe.SliceData(text), len(text))); err == nil {
			return scaleMicros(n, unit)
		}
	}
	m, err := decimalMicros(string(text), unit)
	if err != nil {
		return 0, err
	}
	return checkMicros(m, text)
}

// digitsInt64 reads text made of 1 to 18 decimal digits, which no int64
// overflows; it reports false for any other text, without the error
// (and its allocation) that a fractional time, the common case of
// ApproximateCreationDateTime, costs fastfloat.ParseInt64.
func digitsInt64(text []byte) (int64, bool) {
	if len(text) == 0 || len(text) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range text {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// timeString reads a time given as a JSON string (its text unescaped):
// a number in units of 10^-unit seconds, or an RFC 3339 time; see
// timeMicros.
func timeString(text []byte, unit int) (int64, error) {
	if len(text) > 0 && (text[0] < '0' || text[0] > '9') || bytes.IndexByte(text, '-') > 0 || bytes.IndexByte(text, ':') >= 0 {
		t, err := time.Parse(time.RFC3339Nano, string(text))
		if err != nil {
			return 0, fmt.Errorf("%w: %q is neither a number nor an RFC 3339 time", ErrBadTime, clip(text))
		}
		return checkMicros(t.UnixMicro(), text)
	}
	m, err := decimalMicros(string(text), unit)
	if err != nil {
		return 0, err
	}
	return checkMicros(m, text)
}

func scaleMicros(n int64, unit int) (int64, error) {
	mul := int64(1)
	for i := unit; i < unitMicros; i++ {
		mul *= 10
	}
	if n < 0 || n > (maxMicros-1)/mul {
		return 0, fmt.Errorf("%w: %d is outside years 1970-9999", ErrBadTime, n)
	}
	return n * mul, nil
}

func checkMicros(m int64, text []byte) (int64, error) {
	if m < 0 || m >= maxMicros {
		return 0, fmt.Errorf("%w: %q is outside years 1970-9999", ErrBadTime, clip(text))
	}
	return m, nil
}

// decimalMicros converts the decimal text of a time in units of
// 10^-unit seconds to microseconds exactly (truncating below one).
func decimalMicros(text string, unit int) (int64, error) {
	n, err := flatten.ParseNumber(text)
	if err != nil {
		return 0, fmt.Errorf("%w: %q is not a number", ErrBadTime, clipS(text))
	}
	if n.IsZero() {
		return 0, nil
	}
	if n.Neg {
		return 0, fmt.Errorf("%w: %q is before 1970", ErrBadTime, clipS(text))
	}
	// value = Digits × 10^-Scale units = Digits × 10^(6-unit-Scale) µs.
	shift := unitMicros - unit - n.Scale
	digits := n.Digits
	if shift < 0 {
		if -shift >= len(digits) {
			return 0, nil
		}
		digits = digits[:len(digits)+shift]
		shift = 0
	}
	if len(digits)+shift > 18 {
		return 0, fmt.Errorf("%w: %q is outside years 1970-9999", ErrBadTime, clipS(text))
	}
	m, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %q", ErrBadTime, clipS(text))
	}
	for ; shift > 0; shift-- {
		m *= 10
	}
	return m, nil
}

// clip shortens b for an error message.
func clip(b []byte) string { return clipS(string(b)) }

func clipS(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}
