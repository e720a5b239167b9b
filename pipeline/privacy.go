package pipeline

import (
	"errors"
	"fmt"
	"sync"

	"github.com/ddblake/ddblake/flatten"
	"github.com/ddblake/ddblake/pipeline/decode"
	"github.com/ddblake/ddblake/pipeline/redact"
)

// What the quarantine did to the bytes of a set-aside record
// (SetAside.Redacted).
const (
	// RedactedMasked: the record with the omit and mask rules applied to
	// its items; still a record of its format.
	RedactedMasked = "masked"
	// RedactedEnvelope: a record that is not valid JSON, of which only
	// the envelope fields read before the break are kept.
	RedactedEnvelope = "envelope"
	// RedactedWithheld: no byte of the record is kept.
	RedactedWithheld = "withheld"
)

// Redactor hides what a configuration omits or masks in what is kept of
// set-aside records: their bytes, the reasons and the attribute paths.
// The rules of a record are those of its DynamoDB table, of the tables
// its sources are read as (SourceRule.As), and of the logical tables
// their routes name, together; a record whose table is not known takes
// the rules of every table. It is safe for concurrent use.
//
// Reasons quote values (a bad number's text, a parser's view of the bytes
// around a syntax error). A reason about a value at or below a hidden
// path keeps only its class ("N is not a number") and a path cut at the
// hidden attribute; a syntax error in a record that may hold hidden
// values says where, not what.
type Redactor struct {
	cfg   *Config
	mu    sync.Mutex
	rules map[string]*flatten.Redactor // by DynamoDB table name; "" for all
}

// NewRedactor returns the Redactor of cfg (nil: no rules).
func NewRedactor(cfg *Config) *Redactor {
	return &Redactor{cfg: cfg, rules: map[string]*flatten.Redactor{}}
}

// Rules returns the rules for a record of a DynamoDB table ("" or an
// invalid name: every table's).
func (r *Redactor) Rules(table string) *flatten.Redactor {
	if !decode.ValidTableName(table) {
		table = ""
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if fr, ok := r.rules[table]; ok {
		return fr
	}
	c := r.cfg
	var key []byte
	if c != nil {
		key = c.MaskKey
	}
	var cfgs []flatten.TableConfig
	switch {
	case c == nil:
	case table == "":
		cfgs = append(cfgs, c.Defaults.TableConfig)
		for _, t := range c.Tables {
			cfgs = append(cfgs, t.TableConfig)
		}
	default:
		tc := c.Table(table)
		cfgs = append(cfgs, tc.TableConfig)
		for _, route := range tc.Routes {
			if _, own := c.tables()[route.Table]; own {
				cfgs = append(cfgs, c.Table(route.Table).TableConfig)
			}
		}
		// A source read as another table (SourceRule.As) takes that
		// table's rules and routes when it has an entry.
		for _, src := range c.tables()[table].Sources {
			if _, own := c.tables()[src.As]; src.As == "" || !own {
				continue
			}
			as := c.Table(src.As)
			cfgs = append(cfgs, as.TableConfig)
			for _, route := range as.Routes {
				if _, own := c.tables()[route.Table]; own {
					cfgs = append(cfgs, c.Table(route.Table).TableConfig)
				}
			}
		}
	}
	fr := flatten.NewRedactor(key, cfgs...)
	if len(r.rules) < maxCachedRules { // table names come from the input
		r.rules[table] = fr
	}
	return fr
}

// maxCachedRules bounds the Redactor's cache of rules by table.
const maxCachedRules = 1024

// SetAside returns e as the quarantine may keep it: its bytes redacted
// (Raw, Redacted, RawSize), its reason and path too. table is the
// record's DynamoDB table name as the input gave it ("" when unknown).
func (r *Redactor) SetAside(e SetAside, table string) SetAside {
	rules := r.Rules(table)
	mode := r.cfg.QuarantineMode()
	if rules.Empty() && mode != QuarantineNone {
		return e
	}
	out := e
	res := redact.Record(e.Raw, rules) // e.Raw itself when there are no rules
	switch {
	case mode == QuarantineNone, res.Broken && mode != QuarantineRaw && res.Raw == nil:
		out.Raw = nil
		if len(e.Raw) > 0 {
			out.Redacted, out.RawSize = RedactedWithheld, len(e.Raw)
		}
	case res.Broken && mode == QuarantineRaw:
	case res.Broken:
		out.Raw, out.Redacted, out.RawSize = res.Raw, RedactedEnvelope, len(e.Raw)
	case res.Changed:
		out.Raw, out.Redacted, out.RawSize = res.Raw, RedactedMasked, len(e.Raw)
	}
	var re *decode.RecordError
	if (!rules.Empty() || mode == QuarantineNone) && errors.As(e.Err, &re) {
		c := recordError(re, rules, res, mode == QuarantineNone)
		out.Err, out.Path = c, c.Path
	}
	return out
}

// RecordError returns e with its reason and path redacted (see
// Redactor), for a line that names the record.
func (r *Redactor) RecordError(e *decode.RecordError) *decode.RecordError {
	rules := r.Rules(e.Table)
	none := r.cfg.QuarantineMode() == QuarantineNone
	if rules.Empty() && !none {
		return e
	}
	return recordError(e, rules, redact.Record(e.Raw, rules), none)
}

// recordError returns a copy of e, without its bytes, whose reason and
// path are redacted under rules; res is what redacting its bytes found.
// The path is cut at the hidden attribute, before the name of an
// omitted one that the rules match only through '*' (see
// flatten.Redactor.Shown).
// withhold withholds the details of every reason (quarantine: none), the
// values and bytes of the record they quote.
func recordError(e *decode.RecordError, rules *flatten.Redactor, res redact.Result, withhold bool) *decode.RecordError {
	out := *e
	out.Raw = nil
	kind := sentinelOf(e.Err)
	if withhold {
		out.Err = &redactedError{kind: kind}
	}
	switch {
	case res.Broken && res.NotJSON:
		// The decoder's parser quotes the bytes around the break.
		where := fmt.Sprintf("at byte %d", res.BrokenAt)
		if res.BrokenInData {
			where += " of the decoded kinesis.data"
		}
		out.Err = &redactedError{kind: kind, detail: "not valid JSON " + where}
	case e.Path != "":
		segs := flatten.SplitPath(e.Path)
		for i, s := range segs {
			if s != "Keys" && s != "NewImage" && s != "OldImage" && s != "Item" {
				continue
			}
			if rules.Hidden(segs[i+1:]) > 0 {
				n := rules.Shown(segs[i+1:])
				path := ""
				for _, s := range segs[:i+1+n] {
					path = flatten.JoinPath(path, s)
				}
				out.Path = path
				out.Err = &redactedError{kind: kind}
			}
			break
		}
	}
	return &out
}

// redactedError is a reason with its details withheld: the class of the
// problem (a sentinel) and what may be said about it.
type redactedError struct {
	kind   error
	detail string
}

func (e *redactedError) Error() string {
	msg := "unreadable record"
	if e.kind != nil {
		msg = e.kind.Error()
	}
	if e.detail != "" {
		msg += ": " + e.detail
	}
	return msg + " (details withheld: they may show hidden values)"
}

// Unwrap returns the class, so that errorKindOf and errors.Is still see it.
func (e *redactedError) Unwrap() error { return e.kind }

// sentinelOf returns the first of the package's and flatten's sentinels
// that err is, or nil.
func sentinelOf(err error) error {
	for _, k := range errorKinds() {
		if errors.Is(err, k.err) {
			return k.err
		}
	}
	return nil
}
