package decode

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
	"unsafe"

	"github.com/ddblake/ddblake/flatten"
	"github.com/stretchr/testify/require"
)

// recordText renders a record's bytes, fields and images (cheaply: the
// tests below render thousands).
func recordText(rec *ChangeRecord, rerr *RecordError) string {
	if rerr != nil {
		return fmt.Sprintf("error %d %s %q", rerr.Index, rerr.Raw, rerr.Error())
	}
	b := fmt.Appendf(nil, "record %s %s %s %s %d\n%s\n", rec.Table, rec.EventName, rec.EventID, rec.Sequence, rec.EventTimeMicros, rec.Raw)
	for _, it := range []flatten.Item{rec.Keys, rec.NewImage, rec.OldImage} {
		b = appendAttrs(append(b, '|'), it.Attrs())
	}
	return string(b)
}

func appendAttrs(b []byte, attrs []flatten.Attr) []byte {
	for _, a := range attrs {
		b = appendValue(append(append(b, a.Name...), '='), a.Value)
	}
	return b
}

func appendValue(b []byte, v flatten.Value) []byte {
	b = fmt.Appendf(b, "%s:%q:%x:%t[", v.Kind, v.S, v.B, v.Bool)
	for _, e := range v.L {
		b = appendValue(b, e)
	}
	return append(appendAttrs(b, v.M), ']')
}

// kept is what a decoding handed on, traced once the whole input was read:
// the records must still hold what they held when they were handed on.
type kept struct {
	recs []*ChangeRecord
	errs []*RecordError
	at   []string // traces taken when handed on
}

func (k *kept) fn(rec *ChangeRecord, rerr *RecordError) error {
	k.at = append(k.at, recordText(rec, rerr))
	if rec != nil {
		k.recs = append(k.recs, rec)
	} else {
		k.errs = append(k.errs, rerr)
	}
	return nil
}

// now traces the records and errors again, in order.
func (k *kept) now() []string {
	var out []string
	r, e := 0, 0
	for _, line := range k.at {
		if strings.HasPrefix(line, "error ") {
			out = append(out, recordText(nil, k.errs[e]))
			e++
		} else {
			out = append(out, recordText(k.recs[r], nil))
			r++
		}
	}
	return out
}

// contiguousRuns counts the runs of records whose Raw follow one another
// in memory (a few bytes apart at most): more than one means the records
// lie in several chunks.
func contiguousRuns(recs []*ChangeRecord) int {
	runs := 0
	var end uintptr
	for _, r := range recs {
		p := uintptr(unsafe.Pointer(unsafe.SliceData(r.Raw)))
		if p < end || p > end+16 {
			runs++
		}
		end = p + uintptr(len(r.Raw))
	}
	return runs
}

// streamInput is records of several MiB, one of them larger than a chunk,
// as a Lambda event document and as JSON lines.
func streamInput(t *testing.T) (doc, lines []byte, n int) {
	t.Helper()
	recs := benchRecords(2200 << 10)
	big := streamRecord(nil, map[string]string{"NewImage": `{"roomId":{"S":"room-1"},"body":{"S":"` + strings.Repeat(`\u0041`, 300_000) + `"}}`})
	require.Greater(t, len(big), maxChunkBytes)
	recs = append(recs[:len(recs)/2], append([]string{big}, recs[len(recs)/2:]...)...)
	return []byte(`{"Records":[` + strings.Join(recs, ",\n") + `]}`), []byte(strings.Join(recs, "\n") + "\n"), len(recs)
}

// TestStreamRecordsKeepTheirBytes checks that the records of a streamed
// input, read into chunks rather than copied one by one, hold the same
// bytes and images once the whole input is read as when they were handed
// on, whatever the reads' sizes cut (records cut by a chunk's end are
// moved whole into the next), that they match the records DecodeEvent
// reads from the same bytes in memory, and that appending to one
// record's Raw cannot write over the next record's.
func TestStreamRecordsKeepTheirBytes(t *testing.T) {
	doc, lines, n := streamInput(t)
	var want pathTrace
	d, err := NewDecoder(Options{})
	require.NoError(t, err)
	require.NoError(t, d.DecodeEvent(doc, "in", want.fn))
	require.Len(t, want.recs, n)
	for _, c := range []struct {
		name   string
		format Format
		data   []byte
	}{{"lambda", FormatLambda, doc}, {"jsonl", FormatJSONL, lines}} {
		for _, read := range []int{997, 64<<10 + 1} {
			t.Run(fmt.Sprintf("%s/read=%d", c.name, read), func(t *testing.T) {
				var got kept
				require.NoError(t, d.Decode(context.Background(), &chunkReader{bytes.NewReader(c.data), read}, "in", c.format, got.fn))
				require.Len(t, got.recs, n)
				require.Empty(t, got.errs)
				require.Equal(t, got.at, got.now(), "records changed after they were handed on")
				for i, rec := range got.recs {
					require.Equal(t, string(want.recs[i].Raw), string(rec.Raw), "record %d", i)
					require.Equal(t, recordText(want.recs[i], nil), recordText(rec, nil), "record %d", i)
					require.Equal(t, len(rec.Raw), cap(rec.Raw), "record %d: Raw's capacity reaches past it", i)
				}
				require.Greater(t, contiguousRuns(got.recs), 3, "the records lie in several chunks")
				before := string(got.recs[1].Raw)
				_ = append(got.recs[0].Raw, "overwrite"...)
				require.Equal(t, before, string(got.recs[1].Raw))
			})
		}
	}
}

// TestRecordsOutliveTheirInput checks that a decoder reused for the next
// input (as a replay's decoders are) reads it into memory of its own: the
// records of the inputs before keep their bytes and images.
func TestRecordsOutliveTheirInput(t *testing.T) {
	doc, lines, n := streamInput(t)
	d, err := NewDecoder(Options{})
	require.NoError(t, err)
	var inputs []*kept
	for _, in := range []struct {
		format Format
		data   []byte
	}{{FormatLambda, doc}, {FormatJSONL, lines}, {FormatLambda, doc}} {
		var k kept
		require.NoError(t, d.Decode(context.Background(), bytes.NewReader(in.data), "in", in.format, k.fn))
		require.Len(t, k.recs, n)
		inputs = append(inputs, &k)
		for i, k := range inputs {
			require.Equal(t, k.at, k.now(), "input %d", i)
		}
	}
}

// endlessLine reads as one line of n bytes of JSON-ish text, then a good
// record on the next line, without holding the line in memory.
type endlessLine struct {
	left int
	tail []byte
}

func (e *endlessLine) Read(p []byte) (int, error) {
	if e.left == 0 {
		if len(e.tail) == 0 {
			return 0, io.EOF
		}
		k := copy(p, e.tail)
		e.tail = e.tail[k:]
		return k, nil
	}
	k := min(len(p), e.left)
	for i := range p[:k] {
		p[i] = 'x'
	}
	e.left -= k
	return k, nil
}

// TestHugeLines checks lines longer than a chunk: one within the limit is
// read whole, whatever the reads cut; one of 200 MB past it is skipped
// (ErrLineTooLong) with the memory the limit bounds, and the next line
// read.
func TestHugeLines(t *testing.T) {
	big := streamRecord(nil, map[string]string{"NewImage": `{"roomId":{"S":"room-1"},"body":{"S":"` + strings.Repeat("메시지", 400_000) + `"}}`})
	small := streamRecord(nil, nil)
	in := []byte(small + "\n" + big + "\n" + small + "\n" + big + "\n")
	for _, read := range []int{4093, 1 << 20} {
		got := decodeReader(t, &chunkReader{bytes.NewReader(in), read}, "big.jsonl", FormatJSONL, Options{})
		require.NoError(t, got.err)
		require.Len(t, got.recs, 2)
		require.Len(t, got.errs, 2) // items over 400 KB
		require.ErrorIs(t, got.errs[0], ErrItemTooLarge)
		require.Equal(t, big, string(got.errs[0].Raw))
		require.Equal(t, big, string(got.errs[1].Raw))
		require.Equal(t, small, string(got.recs[1].Raw))
	}

	d, err := NewDecoder(Options{MaxRecordBytes: 8 << 20})
	require.NoError(t, err)
	var got kept
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	err = d.Decode(context.Background(), &endlessLine{left: 200e6, tail: []byte("\n" + small + "\n")}, "huge.jsonl", FormatJSONL, got.fn)
	runtime.ReadMemStats(&after)
	require.NoError(t, err)
	require.Len(t, got.errs, 1)
	require.ErrorIs(t, got.errs[0], ErrLineTooLong)
	require.Equal(t, 1, got.errs[0].Index)
	require.Len(t, got.recs, 1)
	require.Equal(t, 2, got.recs[0].Index)
	require.Equal(t, small, string(got.recs[0].Raw))
	require.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(64<<20), "a line past the limit is not kept")
}
