package decode

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ddblake/ddblake/flatten"
	"github.com/stretchr/testify/require"
)

// sentinelNames names the sentinels a golden file shows as a cause.
var sentinelNames = []struct {
	err  error
	name string
}{
	{ErrBadRecord, "ErrBadRecord"}, {ErrBadEventName, "ErrBadEventName"}, {ErrBadTable, "ErrBadTable"},
	{ErrBadSequence, "ErrBadSequence"}, {ErrBadTime, "ErrBadTime"}, {ErrChecksum, "ErrChecksum"},
	{ErrItemCount, "ErrItemCount"}, {ErrLineTooLong, "ErrLineTooLong"}, {ErrEmpty, "ErrEmpty"},
	{ErrTruncated, "ErrTruncated"}, {ErrBadDocument, "ErrBadDocument"}, {ErrRecordTooLarge, "ErrRecordTooLarge"},
	{ErrCorruptGzip, "ErrCorruptGzip"}, {ErrUnknownFormat, "ErrUnknownFormat"}, {ErrBadManifest, "ErrBadManifest"},
	{ErrUnsupported, "ErrUnsupported"}, {ErrBadIon, "ErrBadIon"}, {ErrMissingFile, "ErrMissingFile"}, {ErrNoTable, "ErrNoTable"},
	{flatten.ErrBadJSON, "flatten.ErrBadJSON"}, {flatten.ErrBadValue, "flatten.ErrBadValue"},
	{flatten.ErrNoType, "flatten.ErrNoType"}, {flatten.ErrMultipleTypes, "flatten.ErrMultipleTypes"},
	{flatten.ErrUnknownType, "flatten.ErrUnknownType"}, {flatten.ErrBadNumber, "flatten.ErrBadNumber"},
	{flatten.ErrNumberRange, "flatten.ErrNumberRange"}, {flatten.ErrBadBase64, "flatten.ErrBadBase64"},
	{flatten.ErrTooDeep, "flatten.ErrTooDeep"}, {flatten.ErrEmptySet, "flatten.ErrEmptySet"},
	{flatten.ErrDuplicateName, "flatten.ErrDuplicateName"},
}

// dependencyWords matches the end of an error message that a dependency
// wrote (fastjson's parse errors, gzip's, base64's). Golden files show
// where it starts, not its words, which an upgrade of the dependency may
// change; the cause they show (causeOf) is this package's sentinel.
var dependencyWords = regexp.MustCompile(`((?:not valid JSON|is not base64|is not valid base64|corrupt gzip data): ).+$`)

// ownWords returns an error message with the dependency's words replaced.
func ownWords(msg string) string {
	return dependencyWords.ReplaceAllString(msg, "${1}…")
}

func causeOf(err error) string {
	var out []string
	for _, s := range sentinelNames {
		if errors.Is(err, s.err) {
			out = append(out, s.name)
		}
	}
	return strings.Join(out, ",")
}

// goldenRecord is how a golden file shows one record or record error.
type goldenRecord struct {
	Source    string          `json:"source"`
	Index     int             `json:"index"`
	Table     string          `json:"table,omitempty"`
	EventName string          `json:"event_name,omitempty"`
	EventID   string          `json:"event_id,omitempty"`
	Sequence  string          `json:"sequence,omitempty"`
	Padded    string          `json:"sequence_padded,omitempty"`
	EventTime string          `json:"event_time,omitempty"`
	TTLDelete bool            `json:"ttl_delete,omitempty"`
	Keys      json.RawMessage `json:"keys,omitempty"`
	NewImage  json.RawMessage `json:"new_image,omitempty"`
	OldImage  json.RawMessage `json:"old_image,omitempty"`
	Error     string          `json:"error,omitempty"`
	Cause     string          `json:"cause,omitempty"`
	Line      int             `json:"line,omitempty"`
	Path      string          `json:"path,omitempty"`
	Raw       string          `json:"raw"`
}

type goldenInput struct {
	Input       string          `json:"input"`
	Kind        string          `json:"kind"`
	Records     []goldenRecord  `json:"records"`
	InputErrors []goldenInError `json:"input_errors,omitempty"`
}

type goldenInError struct {
	Error  string `json:"error"`
	Cause  string `json:"cause"`
	Source string `json:"source"`
	Line   int    `json:"line,omitempty"`
	Index  int    `json:"index"`
}

func imageJSON(item flatten.Item) json.RawMessage {
	if item.IsZero() {
		return nil
	}
	return flatten.AppendItemJSON(nil, item.Attrs())
}

func timeText(us int64) string {
	return time.UnixMicro(us).UTC().Format("2006-01-02T15:04:05.999999Z07:00")
}

func renderRecord(rec *ChangeRecord, rerr *RecordError) goldenRecord {
	if rerr != nil {
		g := goldenRecord{Source: rerr.Source, Index: rerr.Index, Table: rerr.Table, Sequence: rerr.Sequence,
			Error: ownWords(rerr.Error()), Cause: causeOf(rerr), Line: rerr.Line, Path: rerr.Path, Raw: string(rerr.Raw)}
		if rerr.EventTimeMicros != 0 {
			g.EventTime = timeText(rerr.EventTimeMicros)
		}
		return g
	}
	return goldenRecord{
		Source: rec.Source, Index: rec.Index, Table: rec.Table, EventName: rec.EventName, EventID: rec.EventID,
		Sequence: rec.Sequence, Padded: SequencePad(rec.Sequence), EventTime: timeText(rec.EventTimeMicros),
		TTLDelete: rec.TTLDelete, Keys: imageJSON(rec.Keys), NewImage: imageJSON(rec.NewImage),
		OldImage: imageJSON(rec.OldImage), Raw: string(rec.Raw),
	}
}

// decodeAll resolves src under the fixtures and decodes every input.
func decodeAll(t *testing.T, src string, format Format, opts Options) []goldenInput {
	t.Helper()
	ctx := context.Background()
	r := Resolver{Local: LocalFS{Root: inputsDir}}
	ins, err := r.Resolve(ctx, src)
	require.NoError(t, err)
	dec, err := NewDecoder(opts)
	require.NoError(t, err)
	var out []goldenInput
	for _, in := range ins {
		fast, parser := bothWays(t, opts, func(d *Decoder, fn RecordFunc) error { return d.DecodeInput(ctx, in, format, fn) })
		requireSameRows(t, fast, parser)
		g := goldenInput{Input: in.Name, Kind: map[InputKind]string{InputFile: "file", InputExport: "export", InputStream: "stream"}[in.Kind], Records: []goldenRecord{}}
		err := dec.DecodeInput(ctx, in, format, func(rec *ChangeRecord, rerr *RecordError) error {
			require.True(t, (rec == nil) != (rerr == nil), "exactly one of record and error")
			g.Records = append(g.Records, renderRecord(rec, rerr))
			return nil
		})
		ies := InputErrors(err)
		if err != nil {
			require.NotEmpty(t, ies, "every error returned is an *InputError: %v", err)
		}
		for _, ie := range ies {
			g.InputErrors = append(g.InputErrors, goldenInError{Error: ownWords(ie.Error()), Cause: causeOf(ie), Source: ie.Source, Line: ie.Line, Index: ie.Index})
		}
		out = append(out, g)
	}
	return out
}

func TestDecodeGolden(t *testing.T) {
	cases := []struct {
		name   string
		src    string
		format Format
		opts   Options
	}{
		{"lambda_chat_stream", "lambda/chat_stream.json", FormatAuto, Options{}},
		{"lambda_keys_only", "lambda/keys_only.json", FormatLambda, Options{}},
		{"lambda_new_image", "lambda/new_image.json", FormatAuto, Options{}},
		{"lambda_bad_records", "lambda/bad_records.json", FormatAuto, Options{}},
		{"lambda_truncated", "lambda/truncated.json", FormatAuto, Options{}},
		{"lambda_empty", "lambda/empty.json", FormatLambda, Options{}},
		{"kinesis_ms", "kinesis/chat_ms.json", FormatAuto, Options{}},
		{"kinesis_us", "kinesis/chat_us.json", FormatKinesis, Options{}},
		{"kinesis_bad", "kinesis/bad.json", FormatAuto, Options{}},
		{"kinesis_data_lines", "kinesis/data/chat_ms.jsonl", FormatAuto, Options{}},
		{"jsonl_stream", "jsonl/stream.jsonl", FormatAuto, Options{}},
		{"jsonl_stream_gz", "jsonl/stream.jsonl.gz", FormatJSONL, Options{}},
		{"jsonl_getrecords", "jsonl/getrecords.jsonl", FormatAuto, Options{Table: "chat-users"}},
		{"jsonl_getrecords_no_table", "jsonl/getrecords.jsonl", FormatAuto, Options{}},
		{"jsonl_corrupt_truncated", "jsonl/corrupt_truncated.jsonl.gz", FormatAuto, Options{}},
		{"jsonl_corrupt_flipped", "jsonl/corrupt_flipped.jsonl.gz", FormatAuto, Options{}},
		{"jsonl_empty", "jsonl/empty.jsonl", FormatAuto, Options{}},
		{"jsonl_blank", "jsonl/blank.jsonl", FormatJSONL, Options{}},
		{"export_full", "export/full", FormatAuto, Options{}},
		{"export_bad_md5", "export/bad_md5", FormatAuto, Options{}},
		{"export_bad_count", "export/bad_count", FormatAuto, Options{}},
		{"export_missing_file", "export/missing_file", FormatAuto, Options{}},
		{"export_corrupt_gzip", "export/corrupt_gzip", FormatAuto, Options{}},
		{"export_ion", "export/ion", FormatAuto, Options{}},
		{"export_ion_binary", "export/ion_binary", FormatExport, Options{}},
		{"export_ion_bad", "export/ion_bad", FormatAuto, Options{}},
		{"export_ion_bad_md5", "export/ion_bad_md5", FormatAuto, Options{}},
		{"export_ion_bad_count", "export/ion_bad_count", FormatAuto, Options{}},
		{"export_bad_table", "export/bad_table", FormatExport, Options{}},
		{"incremental", "incremental/chat", FormatAuto, Options{}},
		{"incremental_ion", "incremental/chat_ion", FormatAuto, Options{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := json.MarshalIndent(decodeAll(t, c.src, c.format, c.opts), "", "  ")
			require.NoError(t, err)
			got = append(got, '\n')
			path := filepath.Join(inputsDir, "golden", c.name+".golden.json")
			if *update {
				require.NoError(t, os.WriteFile(path, got, 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "run go test ./pipeline/decode -run TestDecodeGolden -update")
			require.Equal(t, string(want), string(got))
		})
	}
}
