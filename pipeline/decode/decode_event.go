package decode

import "sync"

// parallelMinBytes is the smallest payload DecodeEvent splits among
// workers.
const parallelMinBytes = 256 << 10

// eventSpan is where one record lies in a payload.
type eventSpan struct{ start, end int }

// eventResult is one decoded record, or why it could not be.
type eventResult struct {
	rec  *ChangeRecord
	rerr *RecordError
}

// decodeEventParallel is DecodeEvent with the records decoded by
// Options.Workers goroutines: it finds every record's bytes, has
// each worker decode a contiguous run of records, then calls fn for each
// in order from the calling goroutine.
func (d *Decoder) decodeEventParallel(payload []byte, source string, fn RecordFunc) error {
	s := docScanner{buf: payload, max: d.opts.MaxRecordBytes}
	spans := d.spans[:0]
	total := 0
	scanErr := s.scanDocs(source, func(raw []byte, start, index int) error {
		spans = append(spans, eventSpan{start, start + len(raw)})
		total += len(raw)
		return nil
	})
	d.spans = spans[:0]
	results := make([]eventResult, len(spans))
	workers := min(d.opts.Workers, len(spans))
	for len(d.helpers) < workers-1 {
		h, _ := NewDecoder(d.opts) // d.opts are valid
		h.parserOnly = d.parserOnly
		d.helpers = append(d.helpers, h)
	}
	decodeRun := func(wd *Decoder, lo, hi int) {
		for i := lo; i < hi; i++ {
			results[i].rec, results[i].rerr = wd.decodeElement(payload[spans[i].start:spans[i].end], FormatAuto)
		}
	}
	// Contiguous runs of about equal bytes; this goroutine takes the first.
	var wg sync.WaitGroup
	lo, first := 0, 0
	for w := 0; w < workers; w++ {
		hi, acc := lo, 0
		for hi < len(spans) && (acc < total/workers || w == workers-1) {
			acc += spans[hi].end - spans[hi].start
			hi++
		}
		if w == 0 {
			first = hi
		} else {
			wg.Add(1)
			go func(wd *Decoder, lo, hi int) {
				defer wg.Done()
				decodeRun(wd, lo, hi)
			}(d.helpers[w-1], lo, hi)
		}
		lo = hi
	}
	decodeRun(d, 0, first)
	wg.Wait()

	lines := docScanner{buf: payload}
	for i, r := range results {
		raw := payload[spans[i].start:spans[i].end]
		if r.rerr != nil {
			r.rerr.Source, r.rerr.Index, r.rerr.Line, r.rerr.Raw = source, i, lines.lineAt(spans[i].start), raw
		} else {
			r.rec.Source, r.rec.Index, r.rec.Line, r.rec.Raw = source, i, lines.lineAt(spans[i].start), raw
		}
		if err := fn(r.rec, r.rerr); err != nil {
			return err
		}
	}
	return scanErr
}
