package pipeline

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/ddblake/ddblake/flatten"
	"github.com/ddblake/ddblake/pipeline/decode"
	"github.com/ddblake/ddblake/schemas"
	"github.com/ddblake/ddblake/sink"
)

// Batch is one unit of work: the records read from one chunk of an input,
// or from one Lambda event, in order, with the records that could not be
// read. ID names everything the batch writes, so that the same batch
// always writes the same objects.
type Batch struct {
	ID      string
	Records []*decode.ChangeRecord
	Errors  []*decode.RecordError
	// DropImages lets Process drop the records' images (Keys, NewImage,
	// OldImage) once it has flattened them, so that their memory goes
	// while the rows are written.
	DropImages bool

	// order, when set (by Replay), makes the batch commit its new columns
	// to the registry only after every batch with a lower ticket has, so
	// that column names and types do not depend on which batch a
	// scheduler ran first. Every ticket from 0 up must be processed once.
	// A Destination that is a sink.Sequencer gets the ticket and unit
	// (the input) with each table (sink.Place).
	order  *commitOrder
	ticket int
	unit   int
}

// commitOrder lines up the schema commits of batches by ticket. It is
// safe for concurrent use; the zero value starts at ticket 0.
type commitOrder struct {
	mu      sync.Mutex
	next    int
	changed chan struct{}
}

// wait blocks until every ticket below t is done, or ctx ends.
func (o *commitOrder) wait(ctx context.Context, t int) error {
	for {
		o.mu.Lock()
		if o.next >= t {
			o.mu.Unlock()
			return nil
		}
		if o.changed == nil {
			o.changed = make(chan struct{})
		}
		ch := o.changed
		o.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// pass waits for ticket t's turn, when it has not come and gone, and marks
// it done: what a batch that returns early does, so that the batches
// after it still get their turns.
func (o *commitOrder) pass(ctx context.Context, t int) {
	o.mu.Lock()
	passed := o.next > t
	o.mu.Unlock()
	if passed {
		return
	}
	if err := o.wait(ctx, t); err == nil {
		o.done(t)
	}
}

// done marks ticket t done, letting t+1 go.
func (o *commitOrder) done(t int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if t+1 > o.next {
		o.next = t + 1
	}
	if o.changed != nil {
		close(o.changed)
		o.changed = nil
	}
}

// Processor turns batches of change records into rows and hands them to
// its Destination, committing new columns to the schema registry first.
//
// Records that cannot become rows go to its Quarantine, redacted by the
// Config's rules (see Redactor): their bytes, reasons and paths. It is
// safe for concurrent use.
type Processor struct {
	Config      *Config
	Schemas     Schemas
	Destination sink.Destination
	Quarantine  SetAsider

	mu         sync.Mutex
	flatteners map[schemas.Origin]*flatten.Flattener
	names      map[schemas.Origin]string // lake table names given
	redactor   *Redactor
	overCap    map[overCapKey]struct{} // paths already reported over a column cap
}

type overCapKey struct{ table, path string }

// maxOverCapKept bounds the over-cap paths a Processor remembers; past
// it, a path may be reported again.
const maxOverCapKept = 1 << 17

// OverCap is an attribute path that got no column because its table had
// reached its column cap (max_columns): its values are kept in _extra.
type OverCap struct {
	Table string
	Path  string
	// Cap is the table's column cap.
	Cap int
}

// aside returns e redacted for the quarantine; table is the record's
// DynamoDB table name.
func (p *Processor) aside(e SetAside, table string) SetAside {
	p.mu.Lock()
	if p.redactor == nil {
		p.redactor = NewRedactor(p.Config)
	}
	r := p.redactor
	p.mu.Unlock()
	return r.SetAside(e, table)
}

// Counts says how many records a batch or a run read and what became of
// them. When everything was delivered, Records = Rows + SetAside.
type Counts struct {
	// Records counts the records read, readable or not.
	Records int
	// Rows counts the rows delivered to the sink.
	Rows int
	// SetAside counts the records put in the quarantine.
	SetAside int
	// Misfits counts the values kept in _extra because they did not fit
	// their column (or had none yet).
	Misfits int
	// Files and Bytes count the objects written.
	Files int
	Bytes int64
	// TableRows counts rows per lake table.
	TableRows map[string]int
	// Renamed names, by lake table, the origin of each table written
	// under another name than it asked for, because another origin
	// holds that name (e.g. chat_messages_2: dynamodb table
	// chat.messages).
	Renamed map[string]string
	// OverCap lists the attribute paths that got no column because their
	// table had reached its column cap, each once per Processor: the
	// first batch that meets a path reports it.
	OverCap []OverCap
}

// Add folds o into c.
func (c *Counts) Add(o Counts) {
	c.Records += o.Records
	c.Rows += o.Rows
	c.SetAside += o.SetAside
	c.Misfits += o.Misfits
	c.Files += o.Files
	c.Bytes += o.Bytes
	if c.TableRows == nil {
		c.TableRows = map[string]int{}
	}
	for t, n := range o.TableRows {
		c.TableRows[t] += n
	}
	for t, o := range o.Renamed {
		if c.Renamed == nil {
			c.Renamed = map[string]string{}
		}
		c.Renamed[t] = o
	}
	c.OverCap = append(c.OverCap, o.OverCap...)
}

// Result is what one batch did.
type Result struct {
	Counts
	// FirstFailed is the input position (ChangeRecord.Index or
	// RecordError.Index) of the first record that was not delivered: its
	// row did not reach the sink, or it could not be set aside. It is -1
	// when everything landed.
	FirstFailed int
}

// tableBatch gathers the rows of one lake table within a batch.
type tableBatch struct {
	origin  schemas.Origin
	asked   string // the lake table name the origin asks for
	name    string // the lake table name it holds (set when committing)
	table   string // a DynamoDB table name of its records, for messages
	config  TableConfig
	f       *flatten.Flattener
	batch   *flatten.Batch
	overCap []string         // paths proposed past the column cap
	records []int            // index into Batch.Records, per item added
	sources []schemas.Source // the source of each item
	keys    []string         // the key attribute names the configuration gives
	keyed   []keyedItem      // per source, in item order: the keys of its first record with Keys
	refused map[schemas.Source]bool
	schema  *schemas.Schema // the schema to type rows by, once committed
	err     error           // why the table could not be committed
}

// keyedItem is the key attribute names of the first record of a source
// that has Keys.
type keyedItem struct {
	source schemas.Source
	names  []string
}

// keyNames returns the table's key attribute names: the configuration's,
// else those of the first record with Keys among the admitted sources.
func (tb *tableBatch) keyNames() []string {
	if tb.keys != nil {
		return tb.keys
	}
	for _, k := range tb.keyed { // in item order
		if !tb.refused[k.source] {
			return k.names
		}
	}
	return nil
}

// noteOverCap returns the paths of table not reported before.
func (p *Processor) noteOverCap(table string, limit int, paths []string) []OverCap {
	if len(paths) == 0 {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.overCap == nil {
		p.overCap = map[overCapKey]struct{}{}
	}
	var out []OverCap
	for _, path := range paths {
		k := overCapKey{table, path}
		if _, seen := p.overCap[k]; seen {
			continue
		}
		if len(p.overCap) < maxOverCapKept {
			p.overCap[k] = struct{}{}
		}
		out = append(out, OverCap{Table: table, Path: path, Cap: limit})
	}
	return out
}

func (p *Processor) flattener(origin schemas.Origin, cfg TableConfig) (*flatten.Flattener, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if f, ok := p.flatteners[origin]; ok {
		return f, nil
	}
	f, err := flatten.New(cfg.TableConfig)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", origin, err)
	}
	if p.flatteners == nil {
		p.flatteners = map[schemas.Origin]*flatten.Flattener{}
	}
	p.flatteners[origin] = f
	return f, nil
}

// Process writes one batch. It returns an error only when it could not
// try (bad configuration, or ctx ended while the batch waited for its
// turn); delivery failures are in Result.FirstFailed with the error that
// caused them joined into the returned error.
func (p *Processor) Process(ctx context.Context, b *Batch) (Result, error) {
	var place *sink.Place
	whole := false // every row handed to the destination (see sink.Sequencer)
	if seq, ok := p.Destination.(sink.Sequencer); ok && b.order != nil {
		// The batch's rows are handed on in ticket order once it is
		// done; a batch some of whose rows never reached the destination
		// says so, and its input's files are left unfinished.
		place = &sink.Place{Ticket: b.ticket, Unit: b.unit}
		defer func() { seq.Done(ctx, *place, whole) }()
	}
	if b.order != nil {
		// However Process returns, the batch's turn is passed on, or the
		// batches after it would wait for ever.
		defer b.order.pass(ctx, b.ticket)
	}
	res := Result{Counts: Counts{Records: len(b.Records) + len(b.Errors), TableRows: map[string]int{}}, FirstFailed: -1}
	var aside []SetAside
	for _, e := range b.Errors {
		aside = append(aside, p.aside(SetAside{
			Table: lakeTableOrEmpty(e.Table), EventTimeMicros: e.EventTimeMicros,
			Source: e.Source, Index: e.Index, Line: e.Line, Path: e.Path, Err: e, Raw: e.Raw,
		}, e.Table))
	}

	// Records are grouped by the origin of their lake table, in the order
	// origins first appear; the names are given when committing.
	tables := map[schemas.Origin]*tableBatch{}
	var order []*tableBatch
	route := router{c: p.Config}
	seqs := padSequences(b.Records)
	for i, rec := range b.Records {
		routed, err := route.route(rec)
		if err != nil {
			aside = append(aside, p.aside(SetAside{
				Table: lakeTableOrEmpty(rec.Table), EventTimeMicros: rec.EventTimeMicros,
				Source: rec.Source, Index: rec.Index, Line: rec.Line, Err: err, Raw: rec.Raw,
			}, rec.Table))
			continue
		}
		tb, ok := tables[routed.Origin]
		if !ok {
			f, err := p.flattener(routed.Origin, routed.Config)
			if err != nil {
				return res, err
			}
			tb = &tableBatch{origin: routed.Origin, asked: routed.Table, table: rec.Table, config: routed.Config,
				f: f, batch: f.NewBatch(), keys: routed.Config.Keys}
			if len(order) == 0 {
				// Most batches are of one table: room for all of its records.
				tb.records = make([]int, 0, len(b.Records)-i)
				tb.sources = make([]schemas.Source, 0, len(b.Records)-i)
			}
			tables[routed.Origin] = tb
			order = append(order, tb)
		}
		if tb.keys == nil && rec.Keys.Len() > 0 && !slices.ContainsFunc(tb.keyed, func(k keyedItem) bool { return k.source == routed.Source }) {
			tb.keyed = append(tb.keyed, keyedItem{source: routed.Source, names: rec.Keys.Names()})
		}
		meta := flatten.Meta{
			EventName: rec.EventName,
			EventID:   rec.EventID,
			EventTime: floorDiv(rec.EventTimeMicros, 1000),
			Sequence:  seqs.at(i, rec.Sequence),
			TTLDelete: rec.TTLDelete,
		}
		if !routed.OldImage.IsZero() {
			meta.OldImage = tb.f.AppendImageJSON(nil, routed.OldImage.Attrs())
		}
		tb.batch.AddItem(meta, routed.Image)
		if len(tb.records) == 0 {
			tb.batch.Expect(len(b.Records) - i - 1) // most batches are of one table
		}
		tb.records = append(tb.records, i)
		tb.sources = append(tb.sources, routed.Source)
	}

	if b.DropImages {
		// The images are in the flatten batches now; what the records
		// still hold (source, position, raw bytes) is what setting them
		// aside needs.
		for _, rec := range b.Records {
			rec.Keys, rec.NewImage, rec.OldImage = flatten.Item{}, flatten.Item{}, flatten.Item{}
		}
	}

	var errs []error
	failed := func(position int) {
		if res.FirstFailed < 0 || position < res.FirstFailed {
			res.FirstFailed = position
		}
	}

	// Lake table names, sources and new columns are committed table by
	// table, in ticket order when the batch has one; the rows are then
	// built and written in parallel with other batches.
	refused, err := p.commit(ctx, b, order)
	if err != nil {
		return res, err
	}
	aside = append(aside, refused...)
	broken := false
	for _, tb := range order {
		if tb.schema == nil {
			if tb.err != nil {
				broken = true
				errs = append(errs, tb.err)
				for _, ri := range tb.records {
					failed(b.Records[ri].Index)
				}
			}
			continue
		}
		if tb.name != tb.asked {
			if res.Renamed == nil {
				res.Renamed = map[string]string{}
			}
			res.Renamed[tb.name] = tb.origin.String()
		}
		res.OverCap = append(res.OverCap, p.noteOverCap(tb.name, tb.config.ColumnCap(), tb.overCap)...)
		rows, st := tb.batch.Rows(make([]flatten.Row, 0, tb.batch.Len()), tb.schema)
		res.Misfits += st.Misfits
		d, err := p.Destination.Write(ctx, b.ID, &sink.Table{Name: tb.name, Schema: tb.schema, Hourly: tb.config.hourly(), Parquet: tb.config.Parquet(), Place: place}, rows)
		tb.batch.Release() // after the rows, which share its memory
		tb.batch = nil
		if err != nil {
			broken = true
			errs = append(errs, fmt.Errorf("table %s: %w", tb.name, err))
		}
		res.Files += d.Files
		res.Bytes += d.Bytes
		for _, ri := range d.Failed {
			failed(b.Records[tb.records[ri]].Index)
		}
		refused := make([]int, 0, len(d.SetAside))
		for ri := range d.SetAside {
			refused = append(refused, ri)
		}
		sort.Ints(refused) // the quarantine's lines in input order
		for _, ri := range refused {
			rec := b.Records[tb.records[ri]]
			aside = append(aside, p.aside(SetAside{
				Table: tb.name, EventTimeMicros: rec.EventTimeMicros,
				Source: rec.Source, Index: rec.Index, Line: rec.Line, Err: d.SetAside[ri], Raw: rec.Raw,
			}, rec.Table))
		}
		delivered := len(rows) - len(d.Failed) - len(d.SetAside)
		res.Rows += delivered
		res.TableRows[tb.name] += delivered
	}

	whole = !broken
	if len(aside) > 0 {
		if err := p.Quarantine.SetAside(ctx, b.ID, aside); err != nil {
			errs = append(errs, fmt.Errorf("quarantine: %w", err))
			for _, a := range aside {
				failed(a.Index)
			}
		} else {
			res.SetAside = len(aside)
		}
	}
	return res, errors.Join(errs...)
}

// commit gives each table of the batch its lake table name, admits the
// accounts and regions of its records (returning the records refused,
// to set aside), and commits its new columns to the registry, in the
// batch's turn when it has one, so that names, sources and columns are
// given in the same order on every run. A table that could not be
// committed is left without a schema, with the error in its tableBatch.
// The error is the context's, when it ended while waiting for the
// batch's turn.
func (p *Processor) commit(ctx context.Context, b *Batch, order []*tableBatch) ([]SetAside, error) {
	if b.order != nil {
		if err := b.order.wait(ctx, b.ticket); err != nil {
			return nil, err
		}
		defer b.order.done(b.ticket)
		// A batch canceled by the time its turn came commits nothing:
		// what is committed stays a prefix of the commit order, whatever
		// batch a canceled replay sent next, so a rerun commits the rest
		// in order.
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	var refused []SetAside
	for _, tb := range order {
		name, err := p.lakeName(ctx, tb.origin, tb.asked)
		if err != nil {
			tb.err = fmt.Errorf("%s: %w", tb.origin, err)
			continue
		}
		tb.name = name
		why, err := p.admit(ctx, tb)
		if err != nil {
			tb.err = fmt.Errorf("table %s: sources: %w", name, err)
			continue
		}
		if len(why) > 0 {
			tb.refused = map[schemas.Source]bool{}
			for src := range why {
				tb.refused[src] = true
			}
			keep := make([]bool, len(tb.records))
			var records []int
			for i, ri := range tb.records {
				if err, out := why[tb.sources[i]]; out {
					rec := b.Records[ri]
					refused = append(refused, p.aside(SetAside{
						Table: name, EventTimeMicros: rec.EventTimeMicros,
						Source: rec.Source, Index: rec.Index, Line: rec.Line, Err: err, Raw: rec.Raw,
					}, rec.Table))
					continue
				}
				keep[i] = true
				records = append(records, ri)
			}
			tb.batch.Keep(func(i int) bool { return keep[i] })
			tb.records = records
			if len(records) == 0 {
				continue
			}
		}
		if tb.schema, err = p.commitTable(ctx, tb); err != nil {
			tb.err = err
		}
	}
	return refused, nil
}

// commitTable proposes the new columns of one table's batch, commits
// them to the registry and returns the schema that comes back.
func (p *Processor) commitTable(ctx context.Context, tb *tableBatch) (*schemas.Schema, error) {
	current, err := p.Schemas.Schema(ctx, tb.name)
	if err != nil {
		return nil, fmt.Errorf("table %s: schema: %w", tb.name, err)
	}
	proposal := current.Clone()
	proposal.MaxColumns = tb.config.ColumnCap()
	changed := false
	proposed := tb.batch.Propose(current)
	for _, c := range proposed {
		if _, err := proposal.Add(c); err != nil {
			if errors.Is(err, schemas.ErrTooManyColumns) {
				tb.overCap = append(tb.overCap, c.Path)
				continue
			}
			return nil, fmt.Errorf("table %s: %w", tb.name, err)
		}
		changed = true
	}
	if keys := tb.keyNames(); len(proposal.Keys) == 0 && len(keys) > 0 {
		proposal.Keys, changed = keys, true
	}
	if hourly := tb.config.Partition == "hour"; hourly && !proposal.Hourly {
		proposal.Hourly, changed = true, true
	}
	if first := tb.batch.FirstDay(); first != "" && (proposal.FirstPartition == "" || first < proposal.FirstPartition) {
		proposal.FirstPartition, changed = first, true
	}
	if !changed {
		tb.f.Learn(current)
		return current, nil
	}
	s, err := p.Schemas.Commit(ctx, proposal)
	if err != nil {
		return nil, fmt.Errorf("table %s: schema commit: %w", tb.name, err)
	}
	if len(s.Columns) >= proposal.MaxColumns {
		// A writer that committed meanwhile may have taken the room.
		for _, c := range proposed {
			if _, ok := s.Lookup(c.Path); !ok && !slices.Contains(tb.overCap, c.Path) {
				tb.overCap = append(tb.overCap, c.Path)
			}
		}
	}
	tb.f.Learn(s)
	return s, nil
}

// paddedSequences holds the padded sequence numbers (decode.SequencePad)
// of a batch's records in one string, a record's at 40 × its index: one
// allocation for the batch rather than one per record.
type paddedSequences string

// padSequences pads the sequence numbers of records.
func padSequences(records []*decode.ChangeRecord) paddedSequences {
	var b strings.Builder
	b.Grow(seqWidth * len(records))
	for _, rec := range records {
		seq := rec.Sequence
		if seq == "" || len(seq) >= seqWidth {
			seq = "" // its slot is not read
		}
		for range seqWidth - len(seq) {
			b.WriteByte('0')
		}
		b.WriteString(seq)
	}
	return paddedSequences(b.String())
}

// seqWidth is the width SequencePad pads to.
const seqWidth = 40

// at returns SequencePad(seq) of record i, whose sequence is seq.
func (p paddedSequences) at(i int, seq string) string {
	if seq == "" || len(seq) >= seqWidth {
		return seq
	}
	return string(p[seqWidth*i : seqWidth*(i+1)])
}

func lakeTableOrEmpty(dynamoName string) string {
	if !decode.ValidTableName(dynamoName) {
		return ""
	}
	return flatten.TableName(dynamoName)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}
