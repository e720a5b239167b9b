package pipeline

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/flatten"
	"github.com/ddblake/ddblake/pipeline/decode"
	"github.com/ddblake/ddblake/sink"
	"github.com/ddblake/ddblake/sink/firehose"
)

// TestErrorKindOf: the words set-aside records are grouped by, for errors
// of every package, wrapped as they reach the quarantine.
func TestErrorKindOf(t *testing.T) {
	for _, c := range []struct {
		err  error
		kind string
	}{
		{decode.ErrBadTime, "bad_time"},
		{decode.ErrDuplicateKey, "duplicate_key"},
		{decode.ErrItemTooLarge, "too_large"},
		{decode.ErrLineTooLong, "too_large"},
		{decode.ErrBadTable, "bad_table"},
		{decode.ErrCorruptGzip, "corrupt_gzip"},
		{&flatten.AttrError{Path: "body", Err: flatten.ErrBadUTF8}, "bad_utf8"},
		{flatten.ErrBadJSON, "bad_json"},
		{ErrOtherSource, "other_source"},
		{sink.ErrUnwritable, "unwritable"},
		{firehose.ErrRecordTooLarge, "too_large"},
		{fmt.Errorf("something else"), "other"},
	} {
		rerr := &decode.RecordError{Source: "in.jsonl", Index: 3, Err: fmt.Errorf("wrapped: %w", c.err)}
		require.Equal(t, c.kind, errorKindOf(rerr), "%v", c.err)
	}
}
