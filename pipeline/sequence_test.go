package pipeline

import (
	"strings"
	"testing"

	"github.com/ddblake/ddblake/pipeline/decode"
)

// TestPadSequences checks that the padded sequence numbers of a batch,
// held in one string, are SequencePad's, whatever their lengths.
func TestPadSequences(t *testing.T) {
	seqs := []string{"", "1", "917261004938955021075", strings.Repeat("9", 39), strings.Repeat("8", 40),
		strings.Repeat("7", 41), "0000123", "42"}
	var recs []*decode.ChangeRecord
	for _, s := range seqs {
		recs = append(recs, &decode.ChangeRecord{Sequence: s})
	}
	padded := padSequences(recs)
	for i, s := range seqs {
		if got, want := padded.at(i, s), decode.SequencePad(s); got != want {
			t.Errorf("record %d (%q): %q, want %q", i, s, got, want)
		}
	}
}
