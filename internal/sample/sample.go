package sample

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"slices"
	"time"
)

// Input format names, as `ddblake replay --format` spells them.
const (
	FormatLambda      = "lambda"
	FormatKinesis     = "kinesis"
	FormatJSONL       = "jsonl"
	FormatExport      = "export"
	FormatIncremental = "incremental"
)

// File is one input of the sample set.
type File struct {
	// Path is slash-separated and relative to the sample directory. For
	// an export it is the export's directory (".../AWSDynamoDB/<id>").
	Path string `json:"path"`
	// Format is one of the Format constants.
	Format string `json:"format"`
	// Table is the table of an export; "" for stream files, whose
	// records name their own table.
	Table string `json:"table,omitempty"`
	// Records is how many rows a replay makes of the file: stream
	// records, export items or incremental export lines.
	Records int `json:"records"`
	// From and To bound the changes the file holds, [From, To); for a
	// full export both are the export time.
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// TableSummary counts one table's history and what a replay of the
// whole sample directory gives.
type TableSummary struct {
	Table string `json:"table"`
	// Changes of the history, by event; TTLRemoves are counted in
	// Removes too.
	Inserts    int `json:"inserts"`
	Modifies   int `json:"modifies"`
	Removes    int `json:"removes"`
	TTLRemoves int `json:"ttlRemoves"`
	// Rows is how many rows a replay of every file makes for the table.
	Rows int `json:"rows"`
	// LiveItems is how many items exist at the end of the history: the
	// row count of the table's _latest view.
	LiveItems int `json:"liveItems"`
}

// Summary describes a written sample set.
type Summary struct {
	Seed  int64     `json:"seed"`
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// Files lists every input, in path order. A replay of the whole
	// directory reads each change exactly once, except the Kinesis
	// records delivered twice (KinesisDuplicates).
	Files             []File         `json:"files"`
	Tables            []TableSummary `json:"tables"`
	KinesisDuplicates int            `json:"kinesisDuplicates"`
}

// Batch sizes of the sample's stream files.
const (
	sampleLambdaBatch  = 25
	sampleKinesisBatch = 25
)

// history runs the simulation over the configured period and returns
// every change in time order.
func (g *Generator) history() []*change {
	var cs []*change
	s := newSim(newRnd(g.cfg.Seed, streamHistory), g.cfg.Start, g.cfg.Days, g.cfg.RoomsPerDay,
		func(c *change) bool { cs = append(cs, c); return true })
	s.run()
	return cs
}

// WriteSample writes the sample set to dir, which must be absent or
// empty (ErrDirNotEmpty otherwise). The history is cut in four periods of
// equal length, each written in other formats, so that replaying the
// whole directory reads every change once:
//
//	lambda/<table>/shard-<n>/<nnn>.json      period 1: Lambda stream events
//	export/<table>/AWSDynamoDB/<id>/...      full export at the end of period 1
//	incremental/<table>/AWSDynamoDB/<id>/... period 2: incremental export
//	jsonl/records-<time>.jsonl               period 3, first half: stream records
//	jsonl/records-<time>.jsonl.gz            period 3, second half, gzip
//	kinesis/<nnn>.json                       period 4: Kinesis events (both tables)
//
// Data files are gzip without a name or time in the header, so the same
// seed writes the same bytes.
func (g *Generator) WriteSample(ctx context.Context, dir string) (Summary, error) {
	entries, err := os.ReadDir(dir)
	switch {
	case err == nil && len(entries) > 0:
		return Summary{}, fmt.Errorf("%w: %s", ErrDirNotEmpty, dir)
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return Summary{}, err
	}
	return g.writeSample(ctx, dirSink{root: dir})
}

// SampleSummary returns the Summary that WriteSample writes, without
// writing anything.
func (g *Generator) SampleSummary(ctx context.Context) (Summary, error) {
	return g.writeSample(ctx, discardSink{})
}

// keyed is a table's item key.
type keyed struct{ table, key string }

// stateAt returns the items that exist just before t.
func stateAt(recs []record, t int64) map[keyed]item {
	st := make(map[keyed]item)
	for _, r := range recs {
		if r.micros >= t {
			break
		}
		k := keyed{r.table, r.key}
		if r.new == nil {
			delete(st, k)
		} else {
			st[k] = r.new
		}
	}
	return st
}

// sortedKeys returns the keys of table in st in a hashed order (like an
// export walks partitions).
func sortedKeys(st map[keyed]item, table string) []keyed {
	var ks []keyed
	for k := range st {
		if k.table == table {
			ks = append(ks, k)
		}
	}
	slices.SortFunc(ks, func(a, b keyed) int {
		ha, hb := hash32(a.key), hash32(b.key)
		if ha != hb {
			if ha < hb {
				return -1
			}
			return 1
		}
		if a.key < b.key {
			return -1
		}
		return 1
	})
	return ks
}

// sampleExportFormat is the export format of each table in the sample
// set: chat-rooms is exported in ION, so that the set holds both formats.
func sampleExportFormat(table string) string {
	if table == TableRooms {
		return ExportION
	}
	return ExportJSON
}

// writeExports writes the full export of both tables at t1 and their
// incremental exports of [t1, t2) (changes the records of period), in the
// format that format gives each table.
func (g *Generator) writeExports(sink fileSink, names rnd, recs, period []record, t1, t2 int64, format func(table string) string, add func(File, error) error) error {
	snap := stateAt(recs, t1)
	for _, table := range []string{TableMessages, TableRooms} {
		if err := add(writeFullExport(sink, names, table, format(table), snap, t1)); err != nil {
			return err
		}
	}
	end := stateAt(recs, t2)
	for _, table := range []string{TableMessages, TableRooms} {
		if err := add(writeIncremental(sink, names, table, format(table), period, snap, end, t1, t2)); err != nil {
			return err
		}
	}
	return nil
}

// WriteExports writes into dir (which must be empty or not exist) the
// sample set's full and incremental exports of both tables, all in
// format (ExportJSON or ExportION): the same items whatever the format,
// so that two calls give one export in each format to compare.
func (g *Generator) WriteExports(ctx context.Context, dir, format string) (Summary, error) {
	if format != ExportJSON && format != ExportION {
		return Summary{}, fmt.Errorf("%w: export format %q: want %s or %s", ErrBadConfig, format, ExportJSON, ExportION)
	}
	entries, err := os.ReadDir(dir)
	switch {
	case err == nil && len(entries) > 0:
		return Summary{}, fmt.Errorf("%w: %s", ErrDirNotEmpty, dir)
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return Summary{}, err
	}
	cs := g.history()
	names := newRnd(g.cfg.Seed, streamNames)
	recs := sequence(names, newTableStreams(names), cs)
	start := g.cfg.Start.UnixMicro()
	span := int64(g.cfg.Days) * day
	t1, t2 := start+span/4, start+span/2
	lo, _ := slices.BinarySearchFunc(recs, t1, func(r record, t int64) int { return cmpInt(r.micros, t) })
	hi, _ := slices.BinarySearchFunc(recs, t2, func(r record, t int64) int { return cmpInt(r.micros, t) })
	sum := Summary{Seed: g.cfg.Seed, Start: g.cfg.Start, End: time.UnixMicro(start + span).UTC()}
	add := func(f File, err error) error {
		if err == nil {
			sum.Files = append(sum.Files, f)
		}
		return err
	}
	if err := ctx.Err(); err != nil {
		return Summary{}, err
	}
	sink := dirSink{root: dir}
	err = g.writeExports(sink, names, recs, recs[lo:hi], t1, t2, func(string) string { return format }, add)
	return sum, err
}

func (g *Generator) writeSample(ctx context.Context, sink fileSink) (Summary, error) {
	cs := g.history()
	names := newRnd(g.cfg.Seed, streamNames)
	recs := sequence(names, newTableStreams(names), cs)

	start := g.cfg.Start.UnixMicro()
	span := int64(g.cfg.Days) * day
	b := [5]int64{start, start + span/4, start + span/2, start + span*3/4, start + span}
	period := func(i int) []record {
		lo, _ := slices.BinarySearchFunc(recs, b[i], func(r record, t int64) int { return cmpInt(r.micros, t) })
		hi := len(recs)
		if i < 3 {
			hi, _ = slices.BinarySearchFunc(recs, b[i+1], func(r record, t int64) int { return cmpInt(r.micros, t) })
		}
		return recs[lo:hi]
	}
	sum := Summary{Seed: g.cfg.Seed, Start: g.cfg.Start, End: time.UnixMicro(b[4]).UTC()}
	add := func(f File, err error) error {
		if err == nil {
			sum.Files = append(sum.Files, f)
		}
		return err
	}
	tm := func(t int64) time.Time { return time.UnixMicro(t).UTC() }

	if err := g.writeLambdaFiles(sink, period(0), tm(b[0]), tm(b[1]), sampleLambdaBatch, 3, add); err != nil {
		return Summary{}, err
	}
	if err := ctx.Err(); err != nil {
		return Summary{}, err
	}
	if err := g.writeExports(sink, names, recs, period(1), b[1], b[2], sampleExportFormat, add); err != nil {
		return Summary{}, err
	}
	if err := ctx.Err(); err != nil {
		return Summary{}, err
	}
	mid := (b[2] + b[3]) / 2
	p3 := period(2)
	cut, _ := slices.BinarySearchFunc(p3, mid, func(r record, t int64) int { return cmpInt(r.micros, t) })
	if err := add(writeJSONL(sink, p3[:cut], tm(b[2]), tm(mid), false)); err != nil {
		return Summary{}, err
	}
	if err := add(writeJSONL(sink, p3[cut:], tm(mid), tm(b[3]), true)); err != nil {
		return Summary{}, err
	}
	dupTable, err := writeKinesisFiles(sink, names, period(3), tm(b[3]), tm(b[4]), add)
	if err != nil {
		return Summary{}, err
	}

	slices.SortFunc(sum.Files, func(x, y File) int {
		if x.Path < y.Path {
			return -1
		}
		if x.Path > y.Path {
			return 1
		}
		return 0
	})
	sum.Tables = tableSummaries(recs)
	rows := map[string]int{}
	for _, i := range []int{0, 2, 3} {
		for _, r := range period(i) {
			rows[r.table]++
		}
	}
	for _, f := range sum.Files {
		rows[f.Table] += f.Records // exports; "" for stream files
	}
	if dupTable != "" {
		rows[dupTable]++
		sum.KinesisDuplicates = 1
	}
	for i := range sum.Tables {
		sum.Tables[i].Rows = rows[sum.Tables[i].Table]
	}
	return sum, nil
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// tableSummaries counts the history per table.
func tableSummaries(recs []record) []TableSummary {
	out := []TableSummary{{Table: TableMessages}, {Table: TableRooms}}
	idx := map[string]*TableSummary{TableMessages: &out[0], TableRooms: &out[1]}
	for _, r := range recs {
		t := idx[r.table]
		switch r.event {
		case eventInsert:
			t.Inserts++
		case eventModify:
			t.Modifies++
		case eventRemove:
			t.Removes++
			if r.ttl {
				t.TTLRemoves++
			}
		}
	}
	for k := range stateAt(recs, math.MaxInt64) {
		idx[k.table].LiveItems++
	}
	return out
}

// writeLambdaFiles writes Lambda events, one shard's records per event,
// at most batch records each, numbered with width digits (at least).
func (g *Generator) writeLambdaFiles(sink fileSink, recs []record, from, to time.Time, batch, width int, add func(File, error) error) error {
	type shardKey struct {
		table string
		shard int
	}
	groups := map[shardKey][]record{}
	var order []shardKey
	for _, r := range recs {
		k := shardKey{r.table, r.shard}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], r)
	}
	slices.SortFunc(order, func(a, b shardKey) int {
		if a.table != b.table {
			if a.table < b.table {
				return -1
			}
			return 1
		}
		return a.shard - b.shard
	})
	for _, k := range order {
		for n, recs := range chunks(groups[k], batch) {
			p := fmt.Sprintf("lambda/%s/shard-%d/%0*d.json", k.table, k.shard, width, n+1)
			err := writeFile(sink, p, appendLambdaEvent(nil, recs))
			if err := add(File{Path: p, Format: FormatLambda, Records: len(recs), From: from, To: to}, err); err != nil {
				return err
			}
		}
	}
	return nil
}

func chunks[T any](xs []T, n int) [][]T {
	var out [][]T
	for len(xs) > n {
		out = append(out, xs[:n])
		xs = xs[n:]
	}
	if len(xs) > 0 {
		out = append(out, xs)
	}
	return out
}

// writeFullExport writes the table's items of snap as a full export at t.
// Messages are spread over two data files by key hash; rooms get one, and
// an empty one (an empty partition).
func writeFullExport(sink fileSink, names rnd, table, format string, snap map[keyed]item, t int64) (File, error) {
	startMicros := t + names.between(second, 5*second)
	id := exportID(names, startMicros)
	local := "export/" + table
	e, err := newExportWriter(sink, local, id, gzip.DefaultCompression, 1<<62, names)
	if err != nil {
		return File{}, err
	}
	e.format = format
	keys := sortedKeys(snap, table)
	var billed int64
	var line []byte
	half := len(keys) / 2
	for i, k := range keys {
		if table == TableMessages && i == half {
			if err := e.closeFile(); err != nil {
				return File{}, err
			}
		}
		it := snap[k]
		billed += int64(itemSize(it)) + 100
		line = appendExportItem(line[:0], it)
		if err := e.writeLine(line); err != nil {
			return File{}, err
		}
	}
	if table == TableRooms {
		if err := e.emptyFile(); err != nil {
			return File{}, err
		}
	}
	s := manifestSummary{
		Version:         fullExportVersion,
		ExportArn:       tableARN(table) + "/export/" + id,
		StartTime:       isoMillis(startMicros),
		EndTime:         isoMillis(startMicros + names.between(4*minute, 9*minute)),
		TableArn:        tableARN(table),
		TableID:         uuid(names.hex(32)),
		ExportTime:      isoMillis(t),
		BilledSizeBytes: billed,
	}
	if err := e.finish(s); err != nil {
		return File{}, err
	}
	tt := time.UnixMicro(t).UTC()
	return File{Path: local + "/AWSDynamoDB/" + id, Format: FormatExport, Table: table,
		Records: int(e.items), From: tt, To: tt}, nil
}

// writeIncremental writes the table's changes of [from, to) as an
// incremental export (NEW_AND_OLD_IMAGES): one line per item changed,
// with its image at from and at to, and the time of its last write.
func writeIncremental(sink fileSink, names rnd, table, format string, recs []record, before, after map[keyed]item, from, to int64) (File, error) {
	last := map[keyed]record{}
	for _, r := range recs {
		if r.table == table {
			last[keyed{table, r.key}] = r
		}
	}
	changed := make(map[keyed]item, len(last))
	for k := range last {
		changed[k] = nil
	}
	startMicros := to + names.between(20*minute, 40*minute)
	id := exportID(names, startMicros)
	local := "incremental/" + table
	e, err := newExportWriter(sink, local, id, gzip.DefaultCompression, 1<<62, names)
	if err != nil {
		return File{}, err
	}
	e.format = format
	var billed int64
	var line []byte
	for _, k := range sortedKeys(changed, table) {
		old, new := before[k], after[k]
		if old == nil && new == nil {
			continue // created and deleted within the period
		}
		r := last[k]
		billed += int64(itemSize(old)+itemSize(new)) + 100
		line = appendIncrementalLine(line[:0], r.keys, old, new, r.micros, uint32(e.items))
		if err := e.writeLine(line); err != nil {
			return File{}, err
		}
	}
	s := manifestSummary{
		Version:         incrementalExportVersion,
		ExportArn:       tableARN(table) + "/export/" + id,
		StartTime:       isoMillis(startMicros),
		EndTime:         isoMillis(startMicros + names.between(10*minute, 20*minute)),
		TableArn:        tableARN(table),
		TableID:         uuid(names.hex(32)),
		ExportFromTime:  isoMillis(from),
		ExportToTime:    isoMillis(to),
		BilledSizeBytes: billed,
		OutputView:      "NEW_AND_OLD_IMAGES",
		ExportType:      "INCREMENTAL_EXPORT",
	}
	if err := e.finish(s); err != nil {
		return File{}, err
	}
	return File{Path: local + "/AWSDynamoDB/" + id, Format: FormatIncremental, Table: table,
		Records: int(e.items), From: time.UnixMicro(from).UTC(), To: time.UnixMicro(to).UTC()}, nil
}

// writeJSONL writes stream records one per line, plain or gzip.
func writeJSONL(sink fileSink, recs []record, from, to time.Time, gz bool) (File, error) {
	var buf []byte
	for _, r := range recs {
		buf = appendStreamRecord(buf, r)
		buf = append(buf, '\n')
	}
	p := "jsonl/records-" + from.Format("20060102T1504") + ".jsonl"
	if gz {
		p += ".gz"
		buf = gzipBytes(buf)
	}
	return File{Path: p, Format: FormatJSONL, Records: len(recs), From: from, To: to}, writeFile(sink, p, buf)
}

// gzipBytes compresses data with a header that has no name and no time.
func gzipBytes(data []byte) []byte {
	var out bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&out, gzip.DefaultCompression)
	zw.Write(data)
	zw.Close()
	return out.Bytes()
}

// writeKinesisFiles writes Kinesis events of a stream with two shards
// that both tables feed. One record is delivered twice, as Kinesis
// Data Streams for DynamoDB may do; it returns that record's table.
func writeKinesisFiles(sink fileSink, names rnd, recs []record, from, to time.Time, add func(File, error) error) (string, error) {
	shards := []*kinesisShard{
		newKinesisShard(names, "shardId-000000000000"),
		newKinesisShard(names, "shardId-000000000001"),
	}
	byShard := make([][]kinesisRecord, len(shards))
	for _, r := range recs {
		pk := partitionKey(r.change)
		i := int(hash32(pk) % uint32(len(shards)))
		byShard[i] = append(byShard[i], kinesisRecord{
			shard: shards[i], pk: pk, table: r.table,
			data:    appendKinesisData(nil, r.change),
			arrival: r.micros + names.between(20_000, 900_000),
		})
	}
	dupTable := ""
	if s0 := byShard[0]; len(s0) > 4 {
		// Redeliver a record from the middle of shard 0 a few places later.
		d := len(s0) / 2
		dup := s0[d]
		dup.arrival = s0[d+2].arrival + names.between(1000, 50_000)
		byShard[0] = slices.Insert(s0, d+3, dup)
		dupTable = dup.table
	}
	n := 0
	for i, krs := range byShard {
		for j := range krs {
			krs[j].seq = shards[i].seq.next(names)
		}
		for _, batch := range chunks(krs, sampleKinesisBatch) {
			n++
			var buf []byte
			buf = append(buf, `{"Records":[`...)
			for j, kr := range batch {
				if j > 0 {
					buf = append(buf, ',')
				}
				buf = appendKinesisRecord(buf, kr)
			}
			buf = append(buf, "]}\n"...)
			p := "kinesis/" + fmt.Sprintf("%03d", n) + ".json"
			if err := add(File{Path: p, Format: FormatKinesis, Records: len(batch), From: from, To: to},
				writeFile(sink, p, buf)); err != nil {
				return "", err
			}
		}
	}
	return dupTable, nil
}

// discardSink accepts files and drops them.
type discardSink struct{}

type discardWriter struct{}

func (discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (discardWriter) Close() error                { return nil }

func (discardSink) create(string) (io.WriteCloser, error) { return discardWriter{}, nil }
