package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ddblake/ddblake/pipeline/decode"
	"github.com/ddblake/ddblake/sink"
)

// Replay defaults.
const (
	// DefaultChunkBytes bounds the raw bytes of records in one batch.
	//
	// With at most one batch per reader and one per writer in memory, it
	// bounds the replay's memory whatever the size of the input: a
	// batch's decoded records, flattened values, rows and Parquet buffers
	// take about ten times its raw bytes. bench/replay-1gib.sh reports the
	// peak RSS this gives on a 1 GiB export.
	DefaultChunkBytes = 4 << 20
	// DefaultChunkRecords bounds the records of one batch.
	DefaultChunkRecords = 100_000
)

// Replay reads inputs, cuts them into batches of bounded size and writes
// each batch through a Processor. Inputs are decoded in parallel and
// batches are written in parallel; one input's batches get names from the
// input's identity and the batch's position in it, so a rerun overwrites
// the same objects. An export's batches never span two data files, and
// are named by the export's identity, the data file and the batch's
// position in the file: reading some of its data files (Input.Files, a
// backfill's map batch) writes the objects that reading the whole export
// writes for them.
type Replay struct {
	// Processor writes each batch.
	Processor *Processor
	// Inputs, when set, lists the inputs that could not be read to the
	// end in the lake's quarantine (a LakeErrors does).
	Inputs InputSetAsider
	// Decode configures the decoders.
	Decode decode.Options
	// Format is the input format (FormatAuto detects it per input).
	Format decode.Format
	// Workers is the number of inputs decoded, and of batches written, at
	// once (default runtime.NumCPU()).
	Workers int
	// ChunkBytes and ChunkRecords bound one batch (defaults above).
	ChunkBytes   int64
	ChunkRecords int
	// Progress, when set, is called after each batch is written. It is
	// called from several goroutines.
	Progress func(Progress)
}

// Progress reports one written batch.
type Progress struct {
	Input    string
	Records  int
	RawBytes int64
}

// Summary is what a replay did, for its summary line and exit code.
type Summary struct {
	Counts
	// Sources are the counts of each input, and of each data file of an
	// export, by the name its records carry (Input.Name; for a data file,
	// ExportDataFile.Name). Their TableRows, Renamed and OverCap are left
	// empty.
	Sources map[string]Counts
	Inputs  int
	// RawBytes is the size of the records read (decompressed).
	RawBytes int64
	// InputErrors are the inputs, or parts of inputs, that could not be
	// read to the end; what came before the break was written.
	InputErrors []error
	// WriteErrors are batches that could not be written (fully or in part).
	WriteErrors []error
	// Finished names the inputs read to the end whose batches were all
	// written, in input order.
	Finished []string
	// Interrupted is set when ctx was canceled before the end. Errors that
	// only say so (context.Canceled from a read or a write cut short) are
	// then left out of InputErrors and WriteErrors: the inputs they hit
	// are just not Finished, and a rerun completes them.
	Interrupted bool
	Elapsed     time.Duration
}

// Run replays inputs. It returns an error only when it could not start
// (bad options); everything that went wrong with inputs and batches is in
// the Summary. Canceling ctx stops it early.
func (r *Replay) Run(ctx context.Context, inputs []decode.Input) (Summary, error) {
	start := time.Now()
	workers := r.Workers
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	decoders := make([]*decode.Decoder, min(workers, max(len(inputs), 1)))
	for i := range decoders {
		opts := r.Decode
		opts.UnusedOldImages = true // the Processor reads no OldImage beside a NewImage
		d, err := decode.NewDecoder(opts)
		if err != nil {
			return Summary{}, err
		}
		decoders[i] = d
	}
	sum := Summary{Inputs: len(inputs), Counts: Counts{TableRows: map[string]int{}}, Sources: map[string]Counts{}}
	var mu sync.Mutex // guards sum, read and failed
	// An input is finished when it was read to the end (read) and
	// neither its reading nor any of its batches failed.
	read := make([]bool, len(inputs))
	failed := make([]bool, len(inputs))

	// Batches go to the writers in input order, then chunk order, and
	// take tickets in that order, so that new columns are committed in
	// the same order on every run: a fresh replay of the same inputs
	// names and types every column the same way. Input i's reader sends
	// only once input i-1's last batch has gone (turns[i] closed); a
	// reader further ahead waits holding one batch. With Workers readers
	// and Workers writers, at most 2 × Workers batches are in memory.
	order := &commitOrder{}
	var ticket atomic.Int64 // the next ticket to give
	// A Destination that joins batches' files (sink.Sequencer) learns
	// where each input's batches end; infos, by ticket, say whose rows
	// its files hold.
	seq, _ := r.Processor.Destination.(sink.Sequencer)
	var infos []ticketInfo
	batches := make(chan *replayBatch)
	var writers sync.WaitGroup
	for range workers {
		writers.Add(1)
		go func() {
			defer writers.Done()
			for b := range batches {
				res, err := r.Processor.Process(ctx, &b.Batch)
				mu.Lock()
				sum.Add(res.Counts)
				src := sum.Sources[b.source]
				src.Records += res.Records
				src.Rows += res.Rows
				src.SetAside += res.SetAside
				src.Misfits += res.Misfits
				src.Files += res.Files
				src.Bytes += res.Bytes
				sum.Sources[b.source] = src
				sum.RawBytes += b.raw
				if err != nil {
					failed[b.index] = true
					if !interrupted(ctx, err) {
						sum.WriteErrors = append(sum.WriteErrors, fmt.Errorf("%s (batch %s): %w", b.input, b.ID, err))
					}
				}
				mu.Unlock()
				if r.Progress != nil {
					r.Progress(Progress{Input: b.input, Records: len(b.Records) + len(b.Errors), RawBytes: b.raw})
				}
			}
		}()
	}
	send := func(b *replayBatch) error {
		if err := ctx.Err(); err != nil {
			// Canceled: the readers' turns no longer wait for each
			// other, so no ticket may be given out of input order.
			return err
		}
		t := int(ticket.Load()) // only the reader whose turn it is sends
		b.order, b.ticket, b.unit = order, t, b.index
		if b.alone {
			// A batch of standard input is named by its content: its rows
			// share files with no other batch's.
			b.unit = len(inputs) + t
		}
		select {
		case batches <- b:
		case <-ctx.Done():
			return ctx.Err()
		}
		mu.Lock()
		infos = append(infos, ticketInfo{input: b.input, source: b.source, index: b.index})
		mu.Unlock()
		ticket.Store(int64(t + 1))
		if b.alone && seq != nil {
			seq.EndUnit(b.unit, t+1, true)
		}
		return nil
	}

	turns := make([]chan struct{}, len(inputs)+1)
	for i := range turns {
		turns[i] = make(chan struct{})
	}
	close(turns[0])
	queue := make(chan int)
	var readers sync.WaitGroup
	for _, dec := range decoders {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for i := range queue {
				err := r.readInput(ctx, dec, i, inputs[i], turns[i], send)
				select { // the input's batches have all gone
				case <-turns[i]:
				case <-ctx.Done():
				}
				if seq != nil && inputs[i].Kind != decode.InputStream {
					seq.EndUnit(i, int(ticket.Load()), readToBreak(err))
				}
				close(turns[i+1])
				var errs []error
				for _, e := range flattenJoined(err) {
					if !interrupted(ctx, e) {
						errs = append(errs, e)
					}
				}
				r.setAsideInput(ctx, inputs[i], errs)
				mu.Lock()
				read[i] = true
				failed[i] = failed[i] || err != nil
				sum.InputErrors = append(sum.InputErrors, errs...)
				mu.Unlock()
			}
		}()
	}
	for i := range inputs {
		select {
		case queue <- i:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(queue)
	readers.Wait()
	close(batches)
	writers.Wait()
	if seq != nil {
		sum.settle(ctx, seq.Close(ctx), infos, failed)
	}
	sum.Interrupted = ctx.Err() != nil
	for i, in := range inputs {
		if read[i] && !failed[i] {
			sum.Finished = append(sum.Finished, in.Name)
		}
	}
	sum.Elapsed = time.Since(start)
	return sum, nil
}

// interrupted reports whether err only says that ctx was canceled.
func interrupted(ctx context.Context, err error) bool {
	return ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded))
}

// setAsideInput lists an input's read failures in r.Inputs; a failure to
// do so joins the input's errors.
func (r *Replay) setAsideInput(ctx context.Context, in decode.Input, errs []error) {
	iq := r.Inputs
	if iq == nil {
		return
	}
	var ies []*decode.InputError
	for _, e := range errs {
		ies = append(ies, decode.InputErrors(e)...)
	}
	if len(ies) == 0 {
		return
	}
	id := in.Identity()
	if in.Files != nil {
		// Some of an export's data files: their own list of errors, beside
		// those of the other batches of the export.
		h := sha256.Sum256(in.Files)
		id += "#files=" + hex.EncodeToString(h[:12])
	}
	if err := iq.SetAsideInput(ctx, sink.ReplayBatchID(id, 0, "", 0), ies); err != nil {
		ies[0].Err = errors.Join(ies[0].Err, fmt.Errorf("listing it in the quarantine: %w", err))
	}
}

type replayBatch struct {
	Batch
	input  string
	source string // the records' Source: the input, or an export's data file
	index  int    // the input's position in Run's inputs
	raw    int64
	alone  bool // a batch of standard input, whose files are its own
}

// ticketInfo is whose rows a ticket's batch holds.
type ticketInfo struct {
	input  string
	source string
	index  int
}

// contentErrors are the read errors an input's content causes: a rerun
// reads the same content and stops at the same place, so the files of
// what came before are final.
var contentErrors = []error{
	decode.ErrEmpty, decode.ErrTruncated, decode.ErrBadDocument, decode.ErrRecordTooLarge,
	decode.ErrCorruptGzip, decode.ErrUnknownFormat, decode.ErrBadManifest, decode.ErrUnsupported,
	decode.ErrMissingFile, decode.ErrNoTable, decode.ErrNoTime, decode.ErrChecksum, decode.ErrItemCount,
	decode.ErrLineTooLong, decode.ErrBadIon, decode.ErrBadTable,
}

// readToBreak reports whether a read that ended with err went as far as
// any read of the input goes: to its end, or to a break in its content.
func readToBreak(err error) bool {
	for _, e := range flattenJoined(err) {
		if !slices.ContainsFunc(contentErrors, func(c error) bool { return errors.Is(e, c) }) {
			return false
		}
	}
	return true
}

// settle folds into the summary what a Sequencer wrote: the files it put
// and the rows of those it could not put, or left unfinished, which were
// counted as written when their batches were processed. An input whose
// rows were not all written is not finished. A file left unfinished by an
// interrupt is no error: the rerun writes it.
func (sum *Summary) settle(ctx context.Context, asm sink.Assembly, infos []ticketInfo, failed []bool) {
	for _, f := range asm.Written {
		sum.Files++
		sum.Bytes += f.Bytes
		if f.First < len(infos) {
			src := sum.Sources[infos[f.First].source]
			src.Files++
			src.Bytes += f.Bytes
			sum.Sources[infos[f.First].source] = src
		}
	}
	for _, u := range asm.Unwritten {
		var names []string
		rows := 0
		for _, tr := range u.Rows {
			if tr.Ticket >= len(infos) {
				continue
			}
			info := infos[tr.Ticket]
			rows += tr.Rows
			sum.Rows -= tr.Rows
			sum.TableRows[u.Table] -= tr.Rows
			src := sum.Sources[info.source]
			src.Rows -= tr.Rows
			sum.Sources[info.source] = src
			failed[info.index] = true
			if !slices.Contains(names, info.input) {
				names = append(names, info.input)
			}
		}
		if ctx.Err() != nil && errors.Is(u.Err, sink.ErrUnfinished) {
			continue
		}
		if len(names) > 3 {
			names = append(names[:3], fmt.Sprintf("and %d more", len(names)-3))
		}
		sum.WriteErrors = append(sum.WriteErrors, fmt.Errorf("%s: table %s: file %s: %d rows not written: %w",
			strings.Join(names, ", "), u.Table, u.Key, rows, u.Err))
	}
}

// readInput decodes input index, in, into batches and hands them to send,
// the first only once turn is closed.
func (r *Replay) readInput(ctx context.Context, dec *decode.Decoder, index int, in decode.Input, turn <-chan struct{}, send func(*replayBatch) error) error {
	maxBytes, maxRecords := r.ChunkBytes, r.ChunkRecords
	if maxBytes <= 0 {
		maxBytes = DefaultChunkBytes
	}
	if maxRecords <= 0 {
		maxRecords = DefaultChunkRecords
	}
	identity := in.Identity()
	// A stream (stdin) has no name, size or ETag that tells one content
	// from another: its batches are named by a hash of their records, so
	// that replaying other data from stdin never overwrites these files.
	var content hash.Hash
	if in.Kind == decode.InputStream {
		content = sha256.New()
	}
	chunk := 0
	cur := &replayBatch{input: in.Name, source: in.Name, index: index, Batch: Batch{DropImages: true}}
	// An export's batches are cut at its data files' ends, and numbered
	// within each file.
	export := in.Kind == decode.InputExport
	flush := func() error {
		if len(cur.Records) == 0 && len(cur.Errors) == 0 {
			return nil
		}
		id := identity
		if content != nil {
			id += "#sha256=" + hex.EncodeToString(content.Sum(nil)[:12])
			content.Reset()
		}
		if export {
			id = exportFileID(in, cur.source)
		}
		cur.ID = sink.ReplayBatchID(id, 0, "", chunk)
		chunk++
		select {
		case <-turn:
		case <-ctx.Done():
			return ctx.Err()
		}
		if err := send(cur); err != nil {
			return err
		}
		cur = &replayBatch{input: in.Name, source: cur.source, index: index, Batch: Batch{DropImages: true}, alone: content != nil}
		return nil
	}
	cur.alone = content != nil
	err := dec.DecodeInput(ctx, in, r.Format, func(rec *decode.ChangeRecord, rerr *decode.RecordError) error {
		if export {
			source := ""
			if rerr != nil {
				source = rerr.Source
			} else {
				source = rec.Source
			}
			if source != cur.source {
				if err := flush(); err != nil {
					return err
				}
				cur.source, chunk = source, 0
			}
		}
		var raw []byte
		if rerr != nil {
			raw = rerr.Raw // the record's own, as Decode makes them
			cur.Errors = append(cur.Errors, rerr)
		} else {
			raw = rec.Raw
			cur.Records = append(cur.Records, rec)
		}
		cur.raw += int64(len(raw))
		if content != nil {
			content.Write(raw)
		}
		if cur.raw >= maxBytes || len(cur.Records)+len(cur.Errors) >= maxRecords {
			return flush()
		}
		return nil
	})
	if ferr := flush(); ferr != nil && err == nil {
		err = ferr
	}
	return err
}

// exportFileID is the identity the batches of one data file of an export
// are named from: the export's identity and the file's path inside it
// (source is the name its records carry, ExportDataFile.Name).
func exportFileID(in decode.Input, source string) string {
	prefix := strings.TrimSuffix(in.Name, "/") + "/"
	if in.Name == "" || in.Name == "." {
		prefix = ""
	}
	return in.Identity() + "#file=" + strings.TrimPrefix(source, prefix)
}

// ExportFileObjects returns how the names of the objects a replay writes
// for one data file of an export begin (its batches' IDs without their
// number): a lake file whose name starts with it holds rows of that data
// file, whether the whole export or some of its files were read.
func ExportFileObjects(in decode.Input, f decode.ExportDataFile) string {
	id := sink.ReplayBatchID(exportFileID(in, f.Name), 0, "", 0)
	return strings.TrimSuffix(id, "000000")
}

// flattenJoined splits an errors.Join tree into its leaves.
func flattenJoined(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flattenJoined(e)...)
		}
		return out
	}
	if err == nil {
		return nil
	}
	return []error{err}
}
