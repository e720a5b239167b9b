package pipeline

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/flatten"
	"github.com/ddblake/ddblake/internal/laketest"
	"github.com/ddblake/ddblake/pipeline/decode"
	"github.com/ddblake/ddblake/sink/direct"
	"github.com/ddblake/ddblake/sink/localstore"
)

var privacyKey = []byte("pipeline-privacy-test-key-0001")

func privacyConfig(t *testing.T, mode string) *Config {
	t.Helper()
	cfg, err := ParseConfig([]byte(laketest.PrivacyConfig + "quarantine: " + mode + "\n"))
	require.NoError(t, err)
	require.NoError(t, cfg.SetMaskKey(privacyKey))
	return cfg
}

func hmacHex(s string) string {
	h := hmac.New(sha256.New, privacyKey)
	h.Write([]byte(s))
	return hex.EncodeToString(h.Sum(nil))
}

// asideTexts is a SetAsider that keeps what it is handed as text (what
// the CLI and the Lambda print) and passes it on.
type asideTexts struct {
	next SetAsider
	mu   sync.Mutex
	text strings.Builder
}

func (a *asideTexts) SetAside(ctx context.Context, batchID string, entries []SetAside) error {
	a.mu.Lock()
	for _, e := range entries {
		fmt.Fprintf(&a.text, "%s\t%s\t%s\n", e.Err, e.Path, e.Raw)
	}
	a.mu.Unlock()
	return a.next.SetAside(ctx, batchID, entries)
}

// TestReplayPrivacy replays inputs of every format whose items hold
// omitted and masked values, many of them set aside for other reasons,
// and reads back every file of the lake: no hidden value is anywhere,
// while the visible values and the masks are.
func TestReplayPrivacy(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{QuarantineRedacted, QuarantineNone} {
		t.Run(mode, func(t *testing.T) {
			in, dir := t.TempDir(), t.TempDir()
			laketest.WritePrivacyInputs(t, in)
			ctx := context.Background()
			store, err := localstore.New(dir)
			require.NoError(t, err)
			inputs, err := (&decode.Resolver{}).Resolve(ctx, in)
			require.NoError(t, err)
			seen := &asideTexts{next: NewLakeErrors(store)}
			r := &Replay{
				Processor: &Processor{Config: privacyConfig(t, mode), Schemas: NewRegistrySchemas(store),
					Destination: direct.New(store), Quarantine: seen},
				Inputs:  NewLakeErrors(store),
				Decode:  decode.Options{Table: "chat", ExportTime: time.Unix(1775001600, 0)}, // the export lines are read without their manifest
				Workers: 2,
			}
			sum, err := r.Run(ctx, inputs)
			require.NoError(t, err)
			require.Empty(t, sum.WriteErrors)
			require.Greater(t, sum.SetAside, 20)
			require.Greater(t, sum.Rows, 10)

			var errs []string
			for _, e := range sum.InputErrors {
				errs = append(errs, e.Error())
			}
			all := laketest.RequireHidden(t, dir, laketest.PrivacySecrets(), seen.text.String(), strings.Join(errs, "\n"))
			for _, v := range laketest.PrivacyVisible() {
				require.Contains(t, all, v)
			}
			for _, v := range laketest.PrivacyMasked() {
				require.Contains(t, all, hmacHex(v), "the mask of %s", v)
			}

			var lines []map[string]any
			for _, l := range laketest.QuarantineLines(t, dir) {
				if !strings.HasPrefix(l["_file"].(string), "_errors/_inputs/") {
					lines = append(lines, l)
				}
			}
			require.Len(t, lines, sum.SetAside)
			states := map[any]int{}
			for _, l := range lines {
				states[l["redacted"]]++
				if mode == QuarantineNone {
					require.NotContains(t, l, "raw")
					require.Equal(t, RedactedWithheld, l["redacted"])
				}
			}
			if mode == QuarantineRedacted {
				require.NotZero(t, states[RedactedMasked], "records that parse keep their bytes, masked")
				require.NotZero(t, states[RedactedEnvelope], "records that do not parse keep their envelope")
			}
		})
	}
}

// TestRedactorReasons checks the reasons and paths of records with a bad
// value at, or below, a hidden path.
func TestRedactorReasons(t *testing.T) {
	r := NewRedactor(privacyConfig(t, QuarantineRedacted))
	for _, c := range []struct {
		name, path, cause, wantPath, wantReason, kind string
		raw                                           string
	}{
		{
			name: "bad number at a masked path", path: "dynamodb.NewImage.pin",
			cause:    `N is not a number: "` + laketest.SecretPin + `"`,
			wantPath: "dynamodb.NewImage.pin", wantReason: "in.jsonl: line 3: dynamodb.NewImage.pin: N is not a number (details withheld",
			kind: "bad_number",
		},
		{
			name: "below a masked map, under a hidden key", path: "NewImage.contacts." + laketest.SecretContact,
			cause:    `N is not a number: "` + laketest.SecretFriend + `"`,
			wantPath: "NewImage.contacts", wantReason: "in.jsonl: line 3: NewImage.contacts: N is not a number (details withheld",
			kind: "bad_number",
		},
		{
			name: "bad number elsewhere", path: "Item.n",
			cause:    `N is not a number: "1.2.3"`,
			wantPath: "Item.n", wantReason: `in.jsonl: line 3: Item.n: N is not a number: "1.2.3"`,
			kind: "bad_number",
		},
		{
			name: "not JSON", raw: `{"Item":{"phone":{"S":"` + laketest.SecretPhone + `"} "x"}}`,
			cause:      `not valid JSON: cannot parse JSON: ...; unparsed tail: "` + laketest.SecretPhone + `"`,
			wantReason: "in.jsonl: line 3: malformed record: not valid JSON at byte 40 (details withheld", // at "x"
			kind:       "bad_record",
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			var cause error
			switch c.kind {
			case "bad_number":
				cause = &flatten.AttrError{Path: "x", Err: errors.New(c.cause)}
				cause = fmt.Errorf("%w: %w", flatten.ErrBadNumber, cause)
			default:
				cause = fmt.Errorf("%w: %s", decode.ErrBadRecord, c.cause)
			}
			raw := c.raw
			if raw == "" {
				raw = `{"Item":{"n":{"N":"1.2.3"}}}`
			}
			re := &decode.RecordError{Source: "in.jsonl", Index: 3, Path: c.path, Table: "chat", Raw: []byte(raw), Err: cause}
			got := r.SetAside(SetAside{Source: "in.jsonl", Index: 3, Path: c.path, Err: re, Raw: re.Raw}, "chat")
			require.Equal(t, c.wantPath, got.Path)
			require.True(t, strings.HasPrefix(got.Err.Error(), c.wantReason), got.Err.Error())
			require.Equal(t, c.kind, errorKindOf(got.Err), "the class is kept")
			for _, s := range laketest.PrivacySecrets() {
				require.NotContains(t, got.Err.Error(), s)
				require.NotContains(t, string(got.Raw), s)
			}
			require.Equal(t, got.Err.Error(), r.RecordError(re).Error(), "the same reason for lines that name the record")
		})
	}
}

// TestRedactorRoutes checks that a record of a physical table is redacted
// with the rules of the logical tables its routes name too, and that a
// record whose table is unknown is redacted with every table's rules.
func TestRedactorRoutes(t *testing.T) {
	r := NewRedactor(privacyConfig(t, QuarantineRedacted))
	raw := `{"Item":{"body":{"S":"` + laketest.SecretBody + `"},"phone":{"S":"` + laketest.SecretPhone + `"},"x":{"S":"y"}}}`
	for _, table := range []string{"chat", "", "bad name!", "messages"} {
		got := r.SetAside(SetAside{Err: errors.New("bad"), Raw: []byte(raw)}, table)
		require.Equal(t, RedactedMasked, got.Redacted, table)
		require.Equal(t, len(raw), got.RawSize)
		require.NotContains(t, string(got.Raw), laketest.SecretBody, table)
		if table != "messages" { // messages masks body only
			require.NotContains(t, string(got.Raw), laketest.SecretPhone, table)
		}
	}
	got := r.SetAside(SetAside{Err: errors.New("bad"), Raw: []byte(raw)}, "other-table")
	require.Contains(t, string(got.Raw), laketest.SecretPhone, "a table with no rules of its own: only the defaults apply")
}

func TestRedactorModes(t *testing.T) {
	broken := []byte(`{"eventName":"INSERT","dynamodb":{"NewImage":{"phone":{"S":"` + laketest.SecretPhone + `"}`)
	good := []byte(`{"Item":{"phone":{"S":"` + laketest.SecretPhone + `"}}}`)
	for _, c := range []struct {
		mode            string
		brokenRaw       string
		brokenRedacted  string
		goodRedacted    string
		goodRawContains string
	}{
		{QuarantineRedacted, `{"eventName":"INSERT"}`, RedactedEnvelope, RedactedMasked, hmacHex(laketest.SecretPhone)},
		{QuarantineRaw, string(broken), "", RedactedMasked, hmacHex(laketest.SecretPhone)},
		{QuarantineNone, "", RedactedWithheld, RedactedWithheld, ""},
	} {
		r := NewRedactor(privacyConfig(t, c.mode))
		got := r.SetAside(SetAside{Err: decode.ErrBadRecord, Raw: broken}, "chat")
		require.Equal(t, c.brokenRaw, string(got.Raw), c.mode)
		require.Equal(t, c.brokenRedacted, got.Redacted, c.mode)
		got = r.SetAside(SetAside{Err: decode.ErrBadRecord, Raw: good}, "chat")
		require.Equal(t, c.goodRedacted, got.Redacted, c.mode)
		require.Contains(t, string(got.Raw), c.goodRawContains)
	}

	// With no rules, the bytes are kept as read, but for quarantine: none.
	r := NewRedactor(nil)
	got := r.SetAside(SetAside{Err: decode.ErrBadRecord, Raw: broken}, "chat")
	require.Equal(t, broken, got.Raw)
	require.Empty(t, got.Redacted)
	cfg, err := ParseConfig([]byte("quarantine: none\n"))
	require.NoError(t, err)
	got = NewRedactor(cfg).SetAside(SetAside{Err: decode.ErrBadRecord, Raw: broken}, "chat")
	require.Nil(t, got.Raw)
	require.Equal(t, RedactedWithheld, got.Redacted)
}

// TestRedactorSources: a record of a table whose sources are read as
// another table (as:) is redacted by that table's rules too, whichever
// account it came from.
func TestRedactorSources(t *testing.T) {
	cfg, err := ParseConfig([]byte(`
tables:
  chat-messages:
    sources:
      - {account: "111111111111"}
      - {account: "222222222222", as: chat-messages-dev}
  chat-messages-dev:
    omit: [secret]
`))
	require.NoError(t, err)
	raw := `{"Item":{"secret":{"S":"` + laketest.SecretBody + `"},"x":{"S":"y"}}}`
	got := NewRedactor(cfg).SetAside(SetAside{Err: errors.New("bad"), Raw: []byte(raw)}, "chat-messages")
	require.Equal(t, RedactedMasked, got.Redacted)
	require.NotContains(t, string(got.Raw), laketest.SecretBody)
	require.Contains(t, string(got.Raw), `"y"`)
}

// TestQuarantineNoneKeepsNoValue: with quarantine: none and no omit or
// mask rule, the reasons kept and printed quote no byte of the records
// either (a bad number's text, the parser's view of a syntax error):
// only the class of the problem, its path and position.
func TestQuarantineNoneKeepsNoValue(t *testing.T) {
	const secret = "SECRET-in-a-reason"
	records := []string{
		`{"Item":{"id":{"S":"1"},"n":{"N":"` + secret + `"}}}`,
		`{"Item":{"id":{"S":"1"} "s":{"S":"` + secret + `"}}}`,
		`{"Item":{"id":{"S":"1"},"x":{"` + secret + `":"x"}}}`,
	}
	cfg, err := ParseConfig([]byte("quarantine: none\n"))
	require.NoError(t, err)
	r := NewRedactor(cfg)
	d, err := decode.NewDecoder(decode.Options{Table: "chat", ExportTime: time.Unix(1775001600, 0)})
	require.NoError(t, err)
	var seen int
	err = d.Decode(context.Background(), strings.NewReader(strings.Join(records, "\n")), "in.jsonl", decode.FormatExport,
		func(rec *decode.ChangeRecord, rerr *decode.RecordError) error {
			require.NotNil(t, rerr, "every record is bad")
			require.Contains(t, rerr.Error(), secret, "the decoder's reason quotes the value")
			seen++
			got := r.SetAside(SetAside{Err: rerr, Raw: rerr.Raw}, "chat")
			require.Nil(t, got.Raw)
			require.NotContains(t, got.Err.Error(), secret)
			require.Contains(t, got.Err.Error(), "in.jsonl")
			require.NotContains(t, r.RecordError(rerr).Error(), secret, "the line printed")
			require.Equal(t, errorKindOf(rerr), errorKindOf(got.Err), "the class is kept")
			return nil
		})
	require.NoError(t, err)
	require.Equal(t, len(records), seen)
}

// TestRedactorReasonsHideOmittedKeys checks that the path of a reason
// about a value under an omitted map entry whose name a rule matches only
// through '*' (omit: [contacts.*], a map keyed by e-mail addresses)
// stops at the map: the key is dropped from the rows and the quarantine,
// so it must not show in the reason either. A masked entry keeps its key
// in the rows, and in the path.
func TestRedactorReasonsHideOmittedKeys(t *testing.T) {
	cfg, err := ParseConfig([]byte(`
tables:
  people:
    omit: ["contacts.*", "a.*.c", "known.bob@x.io"]
    mask: ["friends.*"]
`))
	require.NoError(t, err)
	require.NoError(t, cfg.SetMaskKey(privacyKey))
	r := NewRedactor(cfg)
	const secret = "dave@secret.example"
	d, err := decode.NewDecoder(decode.Options{})
	require.NoError(t, err)
	for _, c := range []struct {
		attr, wantPath string
	}{
		{`"contacts":{"M":{"` + secret + `":{"N":"1.2.3"}}}`, "dynamodb.NewImage.contacts"},
		{`"contacts":{"M":{"` + secret + `":{"M":{"x":{"N":"1.2.3"}}}}}`, "dynamodb.NewImage.contacts"},
		{`"a":{"M":{"k":{"M":{"c":{"N":"1.2.3"}}}}}`, "dynamodb.NewImage.a.k.c"},
		{`"known":{"M":{"bob@x.io":{"N":"1.2.3"}}}`, `dynamodb.NewImage.known.bob@x\.io`},
		{`"friends":{"M":{"erin":{"N":"1.2.3"}}}`, "dynamodb.NewImage.friends.erin"},
	} {
		rec := `{"eventID":"1","eventName":"INSERT","eventSource":"aws:dynamodb","awsRegion":"us-east-1",` +
			`"eventSourceARN":"arn:aws:dynamodb:us-east-1:123456789012:table/people/stream/2026-01-01T00:00:00.000",` +
			`"dynamodb":{"ApproximateCreationDateTime":1775001600,"SequenceNumber":"100000000000000000001","Keys":{"pk":{"S":"p"}},` +
			`"NewImage":{"pk":{"S":"p"},` + c.attr + `}}}`
		var got *decode.RecordError
		require.NoError(t, d.Decode(context.Background(), strings.NewReader(rec), "in.jsonl", decode.FormatJSONL,
			func(_ *decode.ChangeRecord, re *decode.RecordError) error { got = re; return nil }))
		require.NotNil(t, got, c.attr)
		aside := r.SetAside(SetAside{Source: got.Source, Index: got.Index, Path: got.Path, Err: got, Raw: got.Raw}, "people")
		require.Equal(t, c.wantPath, aside.Path, c.attr)
		line := r.RecordError(got).Error()
		require.Contains(t, line, c.wantPath+": N is not a number")
		require.NotContains(t, line+aside.Path+string(aside.Raw), secret)
	}
}
