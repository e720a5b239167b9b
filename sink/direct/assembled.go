package direct

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/ddblake/ddblake/flatten"
	"github.com/ddblake/ddblake/sink"
	"github.com/ddblake/ddblake/sink/concat"
)

// Defaults of AssembleOptions.
const (
	// DefaultMaxOpen bounds the files a unit grows at once: past it, the
	// one appended to least recently is finished.
	DefaultMaxOpen = 64
	// DefaultMaxChunks bounds the column chunks of a file (row groups ×
	// columns), so its footer stays within a few megabytes whatever the
	// table's width.
	DefaultMaxChunks = 1 << 15
	// nullChunkBytes is about what a column chunk of nulls costs a file:
	// its page, its column and offset index entries, its footer entry.
	nullChunkBytes = 160
	// maxNullShare bounds what a file's null chunks may add to it: a
	// file takes no piece that would make them more than 1/maxNullShare
	// of the size of its pieces (sparse tables whose batches use few of
	// many columns): a file is at most half again as large as the files
	// it joins.
	maxNullShare = 2
)

// AssembleOptions tune an Assembled destination. The zero value applies
// the defaults.
type AssembleOptions struct {
	// MaxOpen bounds the files open at once (default DefaultMaxOpen).
	MaxOpen int
	// MaxChunks bounds a file's column chunks (default DefaultMaxChunks).
	MaxChunks int
	// Window bounds how far ahead of the oldest batch not yet done a
	// batch may finish before Done waits (default 4 per CPU, at least 8).
	Window int
	// Finishers is the number of files finished and put at once (default
	// one per CPU, at least 2).
	Finishers int
}

// Assembled is the destination of a replay: a sink.Sequencer that joins
// the files of consecutive batches of one input and partition (pieces,
// encoded by the batches' writers in parallel) into files of the table's
// target size, without encoding their rows again (sink/concat).
//
// Pieces are joined in ticket order. A file takes a unit's pieces of its
// table and partition, one after the other, until the next would take it
// past the target size (or past MaxChunks column chunks, or make the
// chunks of nulls that fill the columns some pieces lack more than half
// as large as its pieces, or its schema conflicts with the file's); it is
// then finished, as are a unit's files when the unit ends, and the one
// appended to least recently when a unit has MaxOpen files open. A file
// is named after its first piece: a file of one piece is exactly the
// file a Destination writes for that batch. So the files depend only on
// the unit's batches, and a rerun writes the same ones.
//
// A file grows in a spool (sink.CreateSpool: the local lake's private
// folder, or a temporary file for S3) and is put when finished, then
// listed at Flush. The files a unit still has open when it is cut short
// (its input not read to the end, a batch of it not whole) are left
// unwritten: a rerun's file of that name holds more rows. Batches without
// a Place are written as a Destination writes them.
type Assembled struct {
	*Destination
	opts AssembleOptions

	mu      sync.Mutex
	next    int // the oldest ticket not yet joined
	tickets map[int]*ticketPieces
	ends    map[int][]unitEnd // by the ticket they come before
	units   map[int]*unitState
	open    map[outKey]*output
	clock   uint64
	moved   chan struct{} // closed when next moves
	closed  bool

	jobs     chan *output
	finishes sync.WaitGroup
	started  bool

	rmu    sync.Mutex
	report sink.Assembly
	// wrote holds, by unit, the partitions its files were put in;
	// partial, the units some of whose rows were not.
	wrote   map[int]map[tablePartition]bool
	partial map[int]bool
}

type tablePartition struct {
	table     string
	partition sink.Partition
}

var _ sink.Sequencer = (*Assembled)(nil)

// NewAssembled returns an Assembled destination writing to store and
// listing the files at Flush.
func NewAssembled(store sink.Store, opts AssembleOptions) *Assembled {
	cpus := runtime.GOMAXPROCS(0)
	if opts.MaxOpen <= 0 {
		opts.MaxOpen = DefaultMaxOpen
	}
	if opts.MaxChunks <= 0 {
		opts.MaxChunks = DefaultMaxChunks
	}
	if opts.Window <= 0 {
		opts.Window = max(8, 4*cpus)
	}
	if opts.Finishers <= 0 {
		opts.Finishers = max(2, cpus)
	}
	return &Assembled{
		Destination: NewDeferred(store), opts: opts,
		tickets: map[int]*ticketPieces{}, ends: map[int][]unitEnd{}, units: map[int]*unitState{},
		open: map[outKey]*output{}, moved: make(chan struct{}),
		wrote: map[int]map[tablePartition]bool{}, partial: map[int]bool{},
	}
}

// piece is one file a batch's writer encoded, waiting to be joined.
type piece struct {
	p      *concat.Piece // nil for a file that cannot be joined: put alone
	body   []byte
	file   sink.WrittenFile // the file it is alone: its key, rows, bytes
	target int64            // the table's target file size
}

// ticketPieces is what one batch handed over.
type ticketPieces struct {
	unit   int
	pieces []piece
	done   bool
	whole  bool
}

type unitEnd struct {
	unit int
	read bool
}

// unitState is what is known of a unit while its batches are joined.
type unitState struct {
	// broken says why its open files and later rows are left unwritten
	// (set too once it ended).
	broken error
	// whole says that it ended read to the end with no batch cut short.
	whole bool
	// inputs are the replayed inputs its files are named after
	// (sink.ReplayInputOf).
	inputs map[string]bool
}

type outKey struct {
	unit      int
	table     string
	partition sink.Partition
}

// output is one file being joined.
type output struct {
	key    outKey
	file   sink.WrittenFile
	first  int // ticket of its first piece
	target int64
	spool  sink.Spool
	side   *sink.TempFile
	w      *concat.Writer
	rows   []sink.TicketRows
	last   uint64 // when a piece was last appended
	plain  int64  // bytes of a file put as it is (w nil)
	ctx    context.Context
}

// Write encodes rows as Destination.Write does. A batch with a Place
// keeps its files, to be joined when the batch is Done; the Delivery
// then counts no file (they are counted when put, see Close).
func (a *Assembled) Write(ctx context.Context, batchID string, t *sink.Table, rows []flatten.Row) (sink.Delivery, error) {
	if t.Place == nil {
		return a.Destination.Write(ctx, batchID, t, rows)
	}
	w, err := a.writer(t.Parquet)
	if err != nil {
		return failAll(len(rows)), err
	}
	defer a.release(t.Parquet, w)
	target := w.Options().FileBytes
	var pieces []piece
	d, err := a.encode(batchID, t, rows, func(sub []flatten.Row) error {
		pieces = pieces[:0]
		return w.Encode(t.Schema, batchID, sub, func(f sink.WrittenFile, body []byte) error {
			body = bytes.Clone(body)
			p, err := concat.Parse(body)
			if err != nil {
				p = nil // joined with nothing: put as it is
			}
			pieces = append(pieces, piece{p: p, body: body, file: f, target: target})
			return nil
		})
	})
	if err != nil {
		return d, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if t.Place.Ticket < a.next || a.closed {
		// Its batch was already Done (or the run closed): nothing would
		// join these rows.
		err := fmt.Errorf("%w: batch %s written after it was done", sink.ErrUnfinished, batchID)
		for _, pc := range pieces {
			a.lost(t.Place.Unit, pc.file.Table, pc.file.Key, err, []sink.TicketRows{{Ticket: t.Place.Ticket, Rows: pc.file.Rows}})
		}
		return d, nil
	}
	tp := a.tickets[t.Place.Ticket]
	if tp == nil {
		tp = &ticketPieces{unit: t.Place.Unit}
		a.tickets[t.Place.Ticket] = tp
	}
	tp.pieces = append(tp.pieces, pieces...)
	return d, nil
}

// Done joins the batch's pieces, and those of the batches after it that
// are done, into their files, once every earlier batch is done. It waits
// while the batch is more than Window tickets ahead of the oldest one not
// done, or until ctx ends.
func (a *Assembled) Done(ctx context.Context, p sink.Place, whole bool) {
	a.mu.Lock()
	for p.Ticket-a.next >= a.opts.Window && ctx.Err() == nil {
		moved := a.moved
		a.mu.Unlock()
		select {
		case <-moved:
		case <-ctx.Done():
		}
		a.mu.Lock()
	}
	defer a.mu.Unlock()
	if p.Ticket < a.next || a.closed {
		return // done twice, or after Close
	}
	tp := a.tickets[p.Ticket]
	if tp == nil {
		tp = &ticketPieces{unit: p.Unit}
		a.tickets[p.Ticket] = tp
	}
	tp.done, tp.whole = true, whole
	a.advance(ctx)
}

// advance joins the tickets that are done from a.next on.
func (a *Assembled) advance(ctx context.Context) {
	moved := false
	for {
		a.endUnits(ctx, a.next)
		tp := a.tickets[a.next]
		if tp == nil || !tp.done {
			break
		}
		delete(a.tickets, a.next)
		a.join(ctx, a.next, tp)
		a.next++
		moved = true
	}
	if moved {
		close(a.moved)
		a.moved = make(chan struct{})
	}
}

// EndUnit finishes the unit's files once its last ticket is joined (at
// once when it already is), or leaves them unwritten when read is false.
func (a *Assembled) EndUnit(unit, next int, read bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return
	}
	if next <= a.next {
		a.endUnit(context.Background(), unitEnd{unit: unit, read: read})
		return
	}
	a.ends[next] = append(a.ends[next], unitEnd{unit: unit, read: read})
}

func (a *Assembled) endUnits(ctx context.Context, at int) {
	for _, e := range a.ends[at] {
		a.endUnit(ctx, e)
	}
	delete(a.ends, at)
}

func (a *Assembled) endUnit(ctx context.Context, e unitEnd) {
	u := a.unit(e.unit)
	if u.broken == nil && !e.read {
		u.broken = fmt.Errorf("%w: its input was not read to the end", sink.ErrUnfinished)
	}
	for k, o := range a.open {
		if k.unit != e.unit {
			continue
		}
		if u.broken != nil {
			a.drop(o, u.broken)
		} else {
			a.finish(ctx, o)
		}
	}
	u.whole = u.broken == nil
	if u.broken == nil {
		// Rows of the unit after its end (an end said before a canceled
		// batch was joined) would start files of other cuts.
		u.broken = fmt.Errorf("%w: its input had ended", sink.ErrUnfinished)
	}
}

// unit returns the state of a unit, made on first use. The states of
// the units ended stay, so that their later rows are refused.
func (a *Assembled) unit(id int) *unitState {
	u := a.units[id]
	if u == nil {
		u = &unitState{}
		a.units[id] = u
	}
	return u
}

// join appends one batch's pieces to their files.
func (a *Assembled) join(ctx context.Context, ticket int, tp *ticketPieces) {
	u := a.unit(tp.unit)
	if u.broken == nil && !tp.whole {
		a.breakUnit(tp.unit, u, fmt.Errorf("%w: a batch of its input (ticket %d) was not written whole", sink.ErrUnfinished, ticket))
	}
	for _, pc := range tp.pieces {
		if u.broken != nil {
			a.lost(tp.unit, pc.file.Table, pc.file.Key, u.broken, []sink.TicketRows{{Ticket: ticket, Rows: pc.file.Rows}})
			continue
		}
		if err := a.add(ctx, ticket, tp.unit, pc); err != nil {
			a.breakUnit(tp.unit, u, err)
		}
	}
}

// breakUnit leaves the unit's open files unwritten, and its later pieces.
func (a *Assembled) breakUnit(unit int, u *unitState, why error) {
	u.broken = why
	for k, o := range a.open {
		if k.unit == unit {
			a.drop(o, why)
		}
	}
}

// add appends a piece to its file, finishing files as the limits say. An
// error (a spool that cannot be written) has left the piece's rows and
// its file's unwritten.
func (a *Assembled) add(ctx context.Context, ticket, unit int, pc piece) error {
	k := outKey{unit: unit, table: pc.file.Table, partition: pc.file.Partition}
	if input, ok := sink.ReplayInputOf(pc.file.Key); ok {
		u := a.unit(unit)
		if u.inputs == nil {
			u.inputs = map[string]bool{}
		}
		u.inputs[input] = true
	}
	o := a.open[k]
	if o != nil && (pc.p == nil || !a.fits(o, pc)) {
		a.finish(ctx, o)
		o = nil
	}
	if o == nil {
		if len(a.open) >= a.opts.MaxOpen {
			var lru *output
			for _, c := range a.open {
				if lru == nil || c.last < lru.last {
					lru = c
				}
			}
			a.finish(ctx, lru)
		}
		var err error
		if o, err = a.create(ctx, k, ticket, pc); err != nil {
			a.lost(unit, pc.file.Table, pc.file.Key, err, []sink.TicketRows{{Ticket: ticket, Rows: pc.file.Rows}})
			return err
		}
		a.open[k] = o
	}
	var err error
	if pc.p == nil {
		_, err = o.spool.Write(pc.body)
		o.plain += int64(len(pc.body))
	} else {
		err = o.w.Append(pc.p)
	}
	o.rows = append(o.rows, sink.TicketRows{Ticket: ticket, Rows: pc.file.Rows})
	o.file.Rows += pc.file.Rows
	a.clock++
	o.last = a.clock
	if err != nil {
		err = fmt.Errorf("table %s: write %s: %w", o.file.Table, o.file.Key, err)
		a.drop(o, err)
		return err
	}
	if pc.p == nil || o.w.Size() >= o.target {
		a.finish(ctx, o)
	}
	return nil
}

// fits reports whether pc can join o within the limits: the target
// size, the column chunks, the share of null chunks.
func (a *Assembled) fits(o *output, pc piece) bool {
	size := o.w.Size() + pc.p.Size()
	return o.w.Check(pc.p) == nil &&
		size <= o.target &&
		(o.w.RowGroups()+pc.p.RowGroups())*o.w.ColumnsWith(pc.p) <= a.opts.MaxChunks &&
		int64(o.w.NullChunksWith(pc.p))*nullChunkBytes*maxNullShare <= size
}

// create opens the file that starts with pc.
func (a *Assembled) create(ctx context.Context, k outKey, ticket int, pc piece) (*output, error) {
	sp, err := sink.CreateSpool(a.store, pc.file.Key)
	if err != nil {
		return nil, fmt.Errorf("table %s: write %s: %w", pc.file.Table, pc.file.Key, err)
	}
	o := &output{key: k, file: pc.file, first: ticket, target: pc.target, spool: sp, ctx: ctx}
	o.file.Rows, o.file.Bytes = 0, 0
	if pc.p != nil {
		if o.side, err = sink.NewTempFile(""); err != nil {
			_ = sp.Discard()
			return nil, fmt.Errorf("table %s: write %s: sidecar: %w", pc.file.Table, pc.file.Key, err)
		}
		o.w = concat.NewWriter(sp, o.side)
	}
	return o, nil
}

// finish hands o to a finisher, which completes and puts it.
func (a *Assembled) finish(ctx context.Context, o *output) {
	delete(a.open, o.key)
	o.ctx = context.WithoutCancel(ctx) // the puts of finished work outlive an interrupt
	if !a.started {
		a.started = true
		a.jobs = make(chan *output, a.opts.Finishers)
		for range a.opts.Finishers {
			a.finishes.Add(1)
			go a.finisher()
		}
	}
	a.jobs <- o
}

// drop leaves o unwritten.
func (a *Assembled) drop(o *output, why error) {
	delete(a.open, o.key)
	_ = o.spool.Discard()
	if o.side != nil {
		_ = o.side.Discard()
	}
	a.lost(o.key.unit, o.file.Table, o.file.Key, why, o.rows)
}

// lost reports rows of unit that did not reach the lake.
func (a *Assembled) lost(unit int, table, key string, why error, rows []sink.TicketRows) {
	a.rmu.Lock()
	defer a.rmu.Unlock()
	a.partial[unit] = true
	a.report.Unwritten = append(a.report.Unwritten, sink.Unwritten{Table: table, Key: key, Err: why, Rows: rows})
}

func (a *Assembled) finisher() {
	defer a.finishes.Done()
	for o := range a.jobs {
		a.put(o)
	}
}

// put completes o's file, puts it and keeps it for Flush.
func (a *Assembled) put(o *output) {
	n, err := o.plain, error(nil)
	if o.w != nil {
		n, err = o.w.Close()
		_ = o.side.Discard()
	}
	if err != nil {
		_ = o.spool.Discard()
	} else {
		err = o.spool.Put(o.ctx)
	}
	if err == nil {
		o.file.Bytes = n
		err = a.files.Add(o.ctx, []sink.WrittenFile{o.file})
	}
	if err != nil {
		a.lost(o.key.unit, o.file.Table, o.file.Key, &sink.WriteError{Table: o.file.Table, Key: o.file.Key, Err: err}, o.rows)
		return
	}
	a.rmu.Lock()
	a.report.Written = append(a.report.Written, sink.AssembledFile{WrittenFile: o.file, First: o.first})
	tp := tablePartition{o.file.Table, o.file.Partition}
	if a.wrote[o.key.unit] == nil {
		a.wrote[o.key.unit] = map[tablePartition]bool{}
	}
	a.wrote[o.key.unit][tp] = true
	a.rmu.Unlock()
}

// Close joins what is left, finishes the files of the units that ended,
// leaves the others' unwritten, waits for every file to be put and
// returns what was written and what was not. The destination takes no
// batch after it.
func (a *Assembled) Close(ctx context.Context) sink.Assembly {
	a.mu.Lock()
	a.advance(ctx)
	for at, ends := range a.ends { // after tickets never done
		for _, e := range ends {
			e.read = false
			a.endUnit(ctx, e)
		}
		delete(a.ends, at)
	}
	for ticket, tp := range a.tickets { // never joined
		for _, pc := range tp.pieces {
			a.lost(tp.unit, pc.file.Table, pc.file.Key, fmt.Errorf("%w: an earlier batch never ended", sink.ErrUnfinished),
				[]sink.TicketRows{{Ticket: ticket, Rows: pc.file.Rows}})
		}
		delete(a.tickets, ticket)
	}
	for _, o := range a.open {
		a.drop(o, fmt.Errorf("%w: its input never ended", sink.ErrUnfinished))
	}
	a.closed = true
	if a.started {
		close(a.jobs)
	}
	a.mu.Unlock()
	a.finishes.Wait()
	a.mu.Lock()
	whole := map[int]map[string]bool{}
	for id, u := range a.units {
		if u.whole && len(u.inputs) > 0 {
			whole[id] = u.inputs
		}
	}
	a.mu.Unlock()
	a.rmu.Lock()
	defer a.rmu.Unlock()
	a.supersede(whole)
	out := a.report
	a.report = sink.Assembly{}
	// Finishers put files in any order: the report is in key order.
	slices.SortFunc(out.Written, func(x, y sink.AssembledFile) int { return strings.Compare(x.Key, y.Key) })
	slices.SortStableFunc(out.Unwritten, func(x, y sink.Unwritten) int { return strings.Compare(x.Key, y.Key) })
	return out
}

// encode runs encodeAll (a TableWriter's Encode or Write of sub, the rows
// not refused) until no row is refused, as Destination.Write does, and
// returns the Delivery of refused rows; an error fails every row left.
func (a *Assembled) encode(batchID string, t *sink.Table, rows []flatten.Row, encodeAll func(sub []flatten.Row) error) (sink.Delivery, error) {
	var d sink.Delivery
	r := newRefusals(rows, t.Schema.Hourly, &d)
	for {
		sub := r.rest()
		err := encodeAll(sub)
		var ee *sink.EncodeError
		if errors.As(err, &ee) && ee.Row >= 0 && ee.Row < len(sub) {
			r.refuse(r.index(ee.Row), err)
			continue
		}
		if err != nil {
			for i := range sub {
				d.Failed = append(d.Failed, r.index(i))
			}
			return d, err
		}
		return d, nil
	}
}

// supersede tells the lister, for each unit that ended whole (whole: its
// inputs, by unit) with every file put, that its files are all of its
// inputs' files in the partitions it wrote: files of those inputs that an
// earlier run listed there, cut at other sizes or batches (another
// target_file_size or chunk size), are taken out of the manifests as the
// new ones go in, so a rerun never lists an input's rows twice. Called
// with a.rmu held, after the finishers ended.
func (a *Assembled) supersede(whole map[int]map[string]bool) {
	for id, inputs := range whole {
		if a.partial[id] {
			continue
		}
		for tp := range a.wrote[id] {
			for input := range inputs {
				a.files.Supersede(tp.table, tp.partition, input)
			}
		}
	}
}
