package latest

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/ddblake/ddblake/schemas"
	"github.com/ddblake/ddblake/sink"
	"github.com/ddblake/ddblake/sink/manifest"
	"github.com/ddblake/ddblake/sink/rewrite"
)

// Lake layout of the states.
const (
	// Prefix holds the pointers (<table>.json) and the generations
	// (<table>/<gen>/live/, <table>/<gen>/removed/).
	Prefix = sink.MetaDir + "/latest/"
	// LiveDir and RemovedDir are the folders of a generation.
	LiveDir    = "live"
	RemovedDir = "removed"
)

// State is a table's pointer: the current generation and what it holds.
type State struct {
	Table string `json:"table"`
	// Generation names the files' folder, "g000007-<hash>".
	Generation string `json:"generation"`
	// Through is the last day (YYYY-MM-DD) the state covers; the
	// partitions up to it, all hours included.
	Through string `json:"through"`
	// Keys are the key columns the items are told apart by.
	Keys []string `json:"keys"`
	// Live and Removed are the generation's files (keys in the lake).
	Live    []string `json:"live"`
	Removed []string `json:"removed"`
	// Items and Tombstones count the rows of Live and Removed.
	Items      int64 `json:"items"`
	Tombstones int64 `json:"tombstones"`
	// Consumed maps each partition the state covers ("dt=..." or
	// "dt=.../hr=..") to the hash of its manifest's file list when read.
	Consumed map[string]string `json:"consumed"`
	// Previous is the generation before, kept for views that still name
	// it.
	Previous string `json:"previous,omitempty"`
	// Built is when the generation was written.
	Built time.Time `json:"built"`
}

// PointerKey is the key of a table's pointer: _ddblake/latest/<table>.json.
func PointerKey(table string) (string, error) {
	if err := sink.ValidateTable(table); err != nil {
		return "", err
	}
	return Prefix + table + ".json", nil
}

// GenerationDir is the folder of a generation: _ddblake/latest/<table>/<gen>/.
func GenerationDir(table, gen string) string { return Prefix + table + "/" + gen + "/" }

// Load reads a table's pointer with its version, or nil (version "") when
// the table has no state.
func Load(ctx context.Context, store sink.Store, table string) (*State, string, error) {
	key, err := PointerKey(table)
	if err != nil {
		return nil, "", err
	}
	data, version, err := store.GetVersion(ctx, key)
	if errors.Is(err, sink.ErrNotExist) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", err
	}
	var st State
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, "", fmt.Errorf("%w: %s: %v", ErrBadState, key, err)
	}
	if st.Table != table || !validGeneration(st.Generation) || (sink.Partition{Day: st.Through}).Validate() != nil {
		return nil, "", fmt.Errorf("%w: %s: table %q, generation %q, through %q", ErrBadState, key, st.Table, st.Generation, st.Through)
	}
	dir := GenerationDir(table, st.Generation)
	for _, k := range append(slices.Clone(st.Live), st.Removed...) {
		if !strings.HasPrefix(k, dir) || sink.ValidateKey(k) != nil {
			return nil, "", fmt.Errorf("%w: %s: file %q is not of generation %s", ErrBadState, key, k, st.Generation)
		}
	}
	return &st, version, nil
}

// validGeneration reports whether gen is "g" + 6 digits + "-" + 16 hex.
func validGeneration(gen string) bool {
	num, hash, ok := strings.Cut(gen, "-")
	if !ok || len(num) != 7 || num[0] != 'g' || len(hash) != 16 {
		return false
	}
	if _, err := strconv.Atoi(num[1:]); err != nil {
		return false
	}
	_, err := hex.DecodeString(hash)
	return err == nil
}

func generationNumber(gen string) int {
	n, _ := strconv.Atoi(gen[1:7])
	return n
}

// PartitionHash is the hash of a partition's manifest as a state records
// it: the sorted keys of its files.
func PartitionHash(keys []string) string {
	h := sha256.New()
	for _, k := range keys {
		h.Write([]byte(k))
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// Options choose what Build builds.
type Options struct {
	// Through is the last day to cover; empty takes the last closed day
	// (see Closed).
	Through string
	// Settle is how long after its end a day is closed (default 26h, as
	// compaction's).
	Settle time.Duration
	// Force allows a Through that is not closed yet.
	Force bool
	// Rebuild builds from the partitions alone, not the previous state.
	Rebuild bool
	// Parquet gives the file options (target size, codec).
	Parquet sink.ParquetOptions
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// DefaultSettle is how long after its end a day is closed.
const DefaultSettle = 26 * time.Hour

// LastClosed returns the last day whose end is settle before now.
func LastClosed(now time.Time, settle time.Duration) string {
	return now.Add(-settle).UTC().Truncate(24*time.Hour).AddDate(0, 0, -1).Format(time.DateOnly)
}

// Result is what Build did.
type Result struct {
	// State is the table's pointer after the run (nil when the table has
	// no keys or no partition).
	State *State
	// Changed is set when a new generation was written.
	Changed bool
	// Full is set when it was built from the partitions alone.
	Full bool
	// Partitions counts the partitions read; Files and Bytes the files
	// read (the previous state's included).
	Partitions, Files int
	Bytes             int64
}

// Build brings a table's state up to date (see the package doc). It
// fails with schemas.ErrNoKeys for a table whose keys are unknown, with
// ErrNotClosed for a Through that may still receive writes (unless
// Force), and with sink.ErrPrecondition when another run switched the
// pointer meanwhile.
func Build(ctx context.Context, store sink.Store, s *schemas.Schema, o Options) (Result, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Settle == 0 {
		o.Settle = DefaultSettle
	}
	keys, err := schemas.KeyColumns(s)
	if err != nil {
		return Result{}, err
	}
	closed := LastClosed(o.Now(), o.Settle)
	through := o.Through
	switch {
	case through == "":
		through = closed
	case (sink.Partition{Day: through}).Validate() != nil:
		return Result{}, fmt.Errorf("%w: through %q: want YYYY-MM-DD", sink.ErrBadName, through)
	case through > closed && !o.Force:
		return Result{}, fmt.Errorf("%w: %s may still receive writes (the last closed day is %s)", ErrNotClosed, through, closed)
	}
	prev, version, err := Load(ctx, store, s.Table)
	if err != nil {
		return Result{}, err
	}
	parts, err := manifest.Scan(ctx, store, s.Table)
	if err != nil {
		return Result{}, err
	}
	consumed := map[string]string{}
	type part struct {
		p    sink.Partition
		keys []string
	}
	var covered []part
	for _, pf := range parts {
		if pf.Partition.Day > through {
			continue
		}
		l, err := manifest.Read(ctx, store, s.Table, pf.Partition)
		if err != nil {
			return Result{}, err
		}
		if len(l.Keys) == 0 {
			continue
		}
		consumed[pf.Partition.Path()] = PartitionHash(l.Keys)
		covered = append(covered, part{pf.Partition, l.Keys})
	}

	full := prev == nil || o.Rebuild || prev.Through > through || !slices.Equal(prev.Keys, keys)
	if !full {
		for p := range prev.Consumed {
			if _, ok := consumed[p]; !ok {
				full = true // rows went away: the state cannot forget them
			}
		}
	}
	var inputs []input
	res := Result{Full: full}
	if !full {
		for _, k := range prev.Live {
			inputs = append(inputs, input{key: k})
		}
		for _, k := range prev.Removed {
			inputs = append(inputs, input{key: k})
		}
	}
	for _, c := range covered {
		if !full && prev.Consumed[c.p.Path()] == consumed[c.p.Path()] {
			continue
		}
		res.Partitions++
		set := map[string]string{schemas.PartitionDay: c.p.Day}
		if c.p.Hour != "" {
			set[schemas.PartitionHour] = c.p.Hour
		}
		for _, k := range c.keys {
			inputs = append(inputs, input{key: k, set: set})
		}
	}
	if !full && res.Partitions == 0 {
		if prev.Through == through {
			res.State = prev
			return res, nil // nothing new
		}
		// Later days, all empty: the same files cover them too.
		next := *prev
		next.Through, next.Consumed, next.Built = through, consumed, o.Now().UTC()
		if err := putPointer(ctx, store, &next, version); err != nil {
			return Result{}, err
		}
		res.State, res.Changed = &next, true
		return res, nil
	}
	gen := generationName(prev, through, keys, consumed, full)

	b := &builder{store: store, s: s, keyCols: keys, inputs: inputs, opts: o.Parquet}
	if err := b.rank(ctx); err != nil {
		return Result{}, err
	}
	res.Files, res.Bytes = len(inputs), b.bytes
	dir := GenerationDir(s.Table, gen)
	next := &State{Table: s.Table, Generation: gen, Through: through, Keys: keys, Consumed: consumed, Built: o.Now().UTC()}
	if prev != nil {
		next.Previous = prev.Generation
	}
	if next.Live, next.Items, err = b.write(ctx, dir+LiveDir+"/", false); err != nil {
		return Result{}, err
	}
	if next.Removed, next.Tombstones, err = b.write(ctx, dir+RemovedDir+"/", true); err != nil {
		return Result{}, err
	}
	if err := removeStrays(ctx, store, dir, append(slices.Clone(next.Live), next.Removed...)); err != nil {
		return Result{}, err
	}
	if err := putPointer(ctx, store, next, version); err != nil {
		return Result{}, err
	}
	res.State, res.Changed = next, true
	if err := removeOld(ctx, store, s.Table, next); err != nil {
		return res, err
	}
	return res, nil
}

// putPointer switches the table's pointer to st, if it is still at
// version.
func putPointer(ctx context.Context, store sink.Store, st *State, version string) error {
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	key, err := PointerKey(st.Table)
	if err != nil {
		return err
	}
	if _, err := store.PutIf(ctx, key, append(data, '\n'), version); err != nil {
		return fmt.Errorf("switch %s to %s through %s: %w", st.Table, st.Generation, st.Through, err)
	}
	return nil
}

// generationName numbers the next generation and names it by a hash of
// what it is built from, so a run killed before its switch and run
// again writes the same files under the same name, and a run from other
// inputs never writes into a folder a view may name.
func generationName(prev *State, through string, keys []string, consumed map[string]string, full bool) string {
	h := sha256.New()
	fmt.Fprintf(h, "through %s\nkeys %s\nfull %v\n", through, strings.Join(keys, ","), full)
	num := 1
	if prev != nil {
		num = generationNumber(prev.Generation) + 1
		fmt.Fprintf(h, "previous %s\n", prev.Generation)
	}
	for _, p := range slices.Sorted(maps.Keys(consumed)) {
		fmt.Fprintf(h, "%s %s\n", p, consumed[p])
	}
	return fmt.Sprintf("g%06d-%s", num, hex.EncodeToString(h.Sum(nil))[:16])
}

// removeStrays deletes objects in a generation's folder that it does not
// hold (left by a run killed while writing one with other inputs).
func removeStrays(ctx context.Context, store sink.Store, dir string, keep []string) error {
	objs, err := store.List(ctx, dir)
	if err != nil {
		return err
	}
	for _, o := range objs {
		if !slices.Contains(keep, o.Key) {
			if err := store.Delete(ctx, o.Key); err != nil {
				return err
			}
		}
	}
	return nil
}

// removeOld deletes the generations numbered before st's previous one.
// Runs in progress write a number after the current one, so this never
// deletes their files.
func removeOld(ctx context.Context, store sink.Store, table string, st *State) error {
	keepFrom := generationNumber(st.Generation)
	if st.Previous != "" {
		keepFrom = generationNumber(st.Previous)
	}
	prefix := Prefix + table + "/"
	objs, err := store.List(ctx, prefix)
	if err != nil {
		return err
	}
	for _, o := range objs {
		gen, _, _ := strings.Cut(strings.TrimPrefix(o.Key, prefix), "/")
		if validGeneration(gen) && generationNumber(gen) < keepFrom {
			if err := store.Delete(ctx, o.Key); err != nil {
				return err
			}
		}
	}
	return nil
}

// input is one file read: a previous state's, or a partition's (set
// gives its partition columns).
type input struct {
	key string
	set map[string]string
}

// winner is an item's newest change so far, and where it is.
type winner struct {
	time    int64
	seq     string
	hasTime bool
	hasSeq  bool
	file    int32
	row     int64
	removed bool
}

// newer reports whether w ranks before o: _event_time, then
// _sequence_number, both descending with nulls last, as the view.
func (w *winner) newer(o *winner) bool {
	if w.hasTime != o.hasTime {
		return w.hasTime
	}
	if w.hasTime && w.time != o.time {
		return w.time > o.time
	}
	if w.hasSeq != o.hasSeq {
		return w.hasSeq
	}
	return w.hasSeq && w.seq > o.seq
}

// builder ranks the inputs' rows by item and writes the winners.
type builder struct {
	store   sink.Store
	s       *schemas.Schema
	keyCols []string
	inputs  []input
	opts    sink.ParquetOptions

	best  map[string]*winner
	bytes int64
}

// rank reads every input, keeping each item's newest change. Among
// changes that rank equal the first read wins: the previous state's
// before the partitions', earlier files before later ones.
func (b *builder) rank(ctx context.Context) error {
	b.best = map[string]*winner{}
	var key []byte
	for i, in := range b.inputs {
		if err := ctx.Err(); err != nil {
			return err
		}
		f, err := b.open(ctx, in)
		if err != nil {
			return err
		}
		b.bytes += f.Size()
		cols, err := columnsOf(f, b.keyCols)
		if err != nil {
			return err
		}
		err = f.Scan(func(row int64, r parquet.Row) error {
			w := winner{file: int32(i), row: row}
			key = key[:0]
			for k := range b.keyCols {
				key = appendKeyValue(key, find(r, cols.keys[k]))
			}
			if v := find(r, cols.time); v != nil && !v.IsNull() {
				w.time, w.hasTime = v.Int64(), true
			}
			if v := find(r, cols.seq); v != nil && !v.IsNull() {
				w.seq, w.hasSeq = string(v.ByteArray()), true
			}
			if v := find(r, cols.event); v != nil && !v.IsNull() {
				w.removed = string(v.ByteArray()) == "REMOVE"
			}
			cur, ok := b.best[string(key)]
			if !ok {
				b.best[string(key)] = &w
			} else if w.newer(cur) {
				*cur = w
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func (b *builder) open(ctx context.Context, in input) (*rewrite.File, error) {
	body, err := b.store.Get(ctx, in.key)
	if err != nil {
		return nil, err
	}
	f, err := rewrite.Open(in.key, body)
	if err != nil {
		return nil, err
	}
	f.Set = in.set
	return f, nil
}

// columns are the leaf indexes of the columns ranked by, -1 when the file
// has none.
type columns struct {
	keys             []int
	time, seq, event int
}

func columnsOf(f *rewrite.File, keyCols []string) (columns, error) {
	idx := func(name string) (int, error) {
		leaf, ok := f.Schema().Lookup(name)
		if !ok {
			return -1, nil
		}
		if leaf.MaxRepetitionLevel > 0 || !leaf.Node.Leaf() {
			return 0, fmt.Errorf("%w: %s: column %s is not a scalar", rewrite.ErrBadFile, f.Name, name)
		}
		return leaf.ColumnIndex, nil
	}
	var c columns
	var err error
	for _, k := range keyCols {
		i, err := idx(k)
		if err != nil {
			return c, err
		}
		c.keys = append(c.keys, i)
	}
	if c.time, err = idx(schemas.ColEventTime); err != nil {
		return c, err
	}
	if c.seq, err = idx(schemas.ColSequence); err != nil {
		return c, err
	}
	c.event, err = idx(schemas.ColEventName)
	return c, err
}

// find returns the value of leaf column i in r, or nil.
func find(r parquet.Row, i int) *parquet.Value {
	if i < 0 {
		return nil
	}
	for k := range r {
		if r[k].Column() == i {
			return &r[k]
		}
	}
	return nil
}

// appendKeyValue appends one key cell so that equal cells, and only
// those, give equal bytes: a null, or the kind and the value's bytes.
func appendKeyValue(dst []byte, v *parquet.Value) []byte {
	if v == nil || v.IsNull() {
		return append(dst, 0)
	}
	dst = append(dst, 1, byte(v.Kind()))
	var raw []byte
	switch v.Kind() {
	case parquet.ByteArray, parquet.FixedLenByteArray:
		raw = v.ByteArray()
	default:
		raw = v.Bytes()
	}
	dst = strconv.AppendInt(dst, int64(len(raw)), 10)
	dst = append(dst, ':')
	return append(dst, raw...)
}

// write copies the winners (live or removed ones) into files under dir,
// in input order, of about the target size; it returns their keys and
// rows.
func (b *builder) write(ctx context.Context, dir string, removed bool) ([]string, int64, error) {
	rows := make([][]int64, len(b.inputs))
	for _, w := range b.best {
		if w.removed == removed {
			rows[w.file] = append(rows[w.file], w.row)
		}
	}
	target := b.opts.FileBytes
	if target <= 0 {
		target = sink.DefaultFileBytes
	}
	var keys []string
	var total int64
	var group []*rewrite.File
	var est, read int64
	fields := rewrite.NewFields()
	flush := func() error {
		if len(group) == 0 {
			return nil
		}
		body, n, err := rewrite.Merge(group, rewrite.Options{ParquetOptions: b.opts, Keep: keep(b.s)})
		if err != nil {
			return err
		}
		key := fmt.Sprintf("%spart-%05d.parquet", dir, len(keys))
		if err := b.store.Put(ctx, key, body); err != nil {
			return err
		}
		keys = append(keys, key)
		total += n
		group, est, read, fields = nil, 0, 0, rewrite.NewFields()
		return nil
	}
	for i, in := range b.inputs {
		if len(rows[i]) == 0 {
			continue
		}
		slices.Sort(rows[i])
		f, err := b.open(ctx, in)
		if err != nil {
			return nil, 0, err
		}
		f.Rows = rows[i]
		size := int64(len(rows[i])) * f.Size() / max(f.NumRows(), 1)
		// Cut at the target size of output, or when the files held for it
		// reach twice the target (rows picked sparsely from many files).
		if len(group) > 0 && (est+size > target || read+f.Size() > 2*target) {
			if err := flush(); err != nil {
				return nil, 0, err
			}
		}
		if err := fields.Add(f); err != nil {
			if !errors.Is(err, rewrite.ErrConflict) {
				return nil, 0, err
			}
			if err := flush(); err != nil {
				return nil, 0, err
			}
			if err := fields.Add(f); err != nil {
				return nil, 0, err
			}
		}
		group = append(group, f)
		est += size
		read += f.Size()
	}
	if err := flush(); err != nil {
		return nil, 0, err
	}
	return keys, total, nil
}

// keep lists the columns every state file holds: the metadata and the
// partition columns.
func keep(s *schemas.Schema) []string {
	var out []string
	for _, c := range schemas.MetadataColumns() {
		out = append(out, c.Name)
	}
	for _, c := range schemas.PartitionColumns(s) {
		out = append(out, c.Name)
	}
	return out
}

// Files returns every file of a state, live and removed.
func (st *State) Files() []string { return append(slices.Clone(st.Live), st.Removed...) }

// Late returns the partitions up to st.Through whose manifest no longer
// has the hash the state was built from (hashes: current ones by
// partition path), and whether a partition the state covered is gone.
func (st *State) Late(hashes map[string]string) (late []string, gone bool) {
	for p, h := range hashes {
		day := strings.TrimPrefix(strings.SplitN(p, "/", 2)[0], schemas.PartitionDay+"=")
		if day > st.Through {
			continue
		}
		if st.Consumed[p] != h {
			late = append(late, p)
		}
	}
	for p := range st.Consumed {
		if _, ok := hashes[p]; !ok {
			gone = true
		}
	}
	slices.SortFunc(late, cmp.Compare[string])
	return late, gone
}
