package decode

import (
	"fmt"
	"strings"
	"testing"
)

// TestRecycleImages checks that a decoder told to recycle its images
// between payloads, on one goroutine or several, hands on for each
// payload exactly what a new decoder does.
func TestRecycleImages(t *testing.T) {
	recs := benchRecords(600 << 10) // over parallelMinBytes
	var payloads [][]byte
	for i := range 3 {
		part := recs[i*len(recs)/4 : (i+2)*len(recs)/4] // payloads of different sizes
		payloads = append(payloads, []byte(`{"Records":[`+strings.Join(part, ",")+`]}`))
	}
	for _, workers := range []int{1, 3} {
		t.Run(fmt.Sprintf("workers=%d", workers), func(t *testing.T) {
			opts := Options{Workers: workers, UnusedOldImages: true}
			reused, err := NewDecoder(opts)
			if err != nil {
				t.Fatal(err)
			}
			for round := range 2 {
				for i, p := range payloads {
					var got, want pathTrace
					if err := reused.DecodeEvent(p, "event", got.fn); err != nil {
						t.Fatal(err)
					}
					fresh, _ := NewDecoder(opts)
					if err := fresh.DecodeEvent(p, "event", want.fn); err != nil {
						t.Fatal(err)
					}
					if len(got.lines) != len(want.lines) {
						t.Fatalf("round %d, payload %d: %d records, want %d", round, i, len(got.lines), len(want.lines))
					}
					for j := range got.lines {
						if got.lines[j] != want.lines[j] {
							t.Fatalf("round %d, payload %d, record %d:\n%s\nwant\n%s", round, i, j, got.lines[j], want.lines[j])
						}
					}
					reused.RecycleImages()
				}
			}
		})
	}
}
