package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/ddblake/ddblake/internal/membudget"
	"github.com/ddblake/ddblake/pipeline"
	"github.com/ddblake/ddblake/pipeline/decode"
	"github.com/ddblake/ddblake/sink/direct"
)

// DefaultLake is where replay writes when --to is not given.
const DefaultLake = "./lake"

func (s *session) replayCommand() *cobra.Command {
	var o replayOptions
	cmd := &cobra.Command{
		Use:   "replay [--config F] [--to DIR|s3://...] [--format FORMAT] [--table NAME] [--export-time T] SOURCE...",
		Short: "Replay change data into the lake",
		Long: `Replay reads change data and writes it into the lake as Parquet, with the
schema registry and set-aside records beside it.

A SOURCE is a file, a directory (walked), an export directory (its manifests
are followed, item counts and MD5 checked), - for standard input, or an
s3://bucket/key URI (an object or a prefix). .gz files are read transparently.

--format auto (the default) tells the format of each input from its content.
--table names the table of inputs that name none: stream records without
eventSourceARN and export data files read without their manifest.
--export-time dates the items of full-export data files read without their
manifest (whose manifest-summary.json holds the export's time): such a file
with no --export-time is not read (an input error), rather than dated 1970.

A progress bar shows on a terminal; the run ends with one summary line on
standard error, then one line per input that could not be read to the end and
per batch that could not be written.

Exit codes: 0 all written; 3 done, but some records were set aside (in
<lake>/_errors/) or some inputs could not be read to the end; 2 bad usage or
configuration; 1 could not finish (write errors, or nothing could be read).`,
		Example: `  ddblake replay ./exports/
  ddblake replay --to s3://my-lake/ddb --config ddblake.yaml s3://my-exports/AWSDynamoDB/
  gunzip -c records.jsonl.gz | ddblake replay --format jsonl --table chat-messages -
  ddblake replay --table chat-messages --export-time 2026-04-01T00:00:00Z ./data/abc.json.gz`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return s.replay(cmd.Context(), o, args)
		},
	}
	o.register(cmd)
	f := cmd.Flags()
	f.StringVar(&o.to, "to", DefaultLake, "the lake: a local directory or s3://bucket/prefix")
	f.StringVar(&o.chunk, "chunk-size", "", "bound on the records' bytes of one batch (default 4MiB)")
	_ = f.MarkHidden("chunk-size") // for tests and tuning: many small batches
	f.StringVar(&o.database, "database", "", "Glue database whose tables to keep in step with the registry as columns are added (see catalog sync)")
	f.StringVar(&o.location, "location", "", "with --database: S3 location of the lake for Glue (default: --to when it is s3://)")
	return cmd
}

type replayOptions struct {
	readOptions
	to, chunk          string
	database, location string
}

// exportTimeUsage describes --export-time.
const exportTimeUsage = "time of full-export data read without its manifest: RFC 3339 or Unix seconds"

// parseExportTime reads --export-time: an RFC 3339 time or Unix seconds
// (an integer), within years 1970-9999; "" is the zero time (unknown).
func parseExportTime(command, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		n, nerr := strconv.ParseInt(s, 10, 64)
		if nerr != nil {
			return time.Time{}, usage("%s: --export-time %q: want an RFC 3339 time (2026-04-01T00:00:00Z) or Unix seconds", command, s)
		}
		t = time.Unix(n, 0)
	}
	if t.Unix() < 0 || t.Year() > 9999 || t.UTC().Year() > 9999 {
		return time.Time{}, usage("%s: --export-time %q: want a time in years 1970-9999", command, s)
	}
	return t.UTC(), nil
}

// input is what the commands that read SOURCEs share: checked options,
// the configuration and the resolved inputs.
type input struct {
	format decode.Format
	config *pipeline.Config
	decode decode.Options
	inputs []decode.Input
	// duplicates are the inputs left out because another input reads
	// the same data (see decode.Unique).
	duplicates []decode.Duplicate
	// unresolved holds the sources that could not be resolved.
	unresolved []error
	// lake is the lake a replay writes; inLake are the inputs left out
	// because they lie in it (its own files, met walking a folder that
	// holds it).
	lake   string
	inLake []decode.Input
}

// readInputs checks the options of a command that reads SOURCEs, loads
// the configuration and resolves the sources. It fails with a usage error,
// or with pipeline.ErrNothingRead when no source could be resolved at all.
func (s *session) readInputs(ctx context.Context, command string, o readOptions, sources []string) (*input, error) {
	in, err := s.checkInputs(ctx, command, o, sources)
	if err != nil {
		return nil, err
	}
	return in, s.resolveInputs(ctx, command, in, sources)
}

// checkInputs checks the options of a command that reads SOURCEs and
// loads the configuration, without touching the sources.
func (s *session) checkInputs(ctx context.Context, command string, o readOptions, sources []string) (*input, error) {
	table := o.table
	f, err := parseFormat(command, o.format)
	if err != nil {
		return nil, err
	}
	exportTime, err := parseExportTime(command, o.exportTime)
	if err != nil {
		return nil, err
	}
	cfg, err := loadConfig(o.config)
	if err != nil {
		return nil, err
	}
	use := keyNeeded
	if command == "infer" {
		use = keyOptional // it prints no value
	}
	if err := s.loadMaskKey(ctx, cfg, o.config, use); err != nil {
		return nil, err
	}
	if err := needSources(command, sources); err != nil {
		return nil, err
	}
	if table != "" && !decode.ValidTableName(table) {
		return nil, usage("%s: --table %q: want a DynamoDB table name (3-255 of a-z, A-Z, 0-9, _, - and .)", command, table)
	}
	return &input{format: f, config: cfg, decode: decode.Options{Table: table, ExportTime: exportTime}}, nil
}

// resolveInputs resolves the sources into in. It fails with
// pipeline.ErrNothingRead when no source could be resolved at all.
func (s *session) resolveInputs(ctx context.Context, command string, in *input, sources []string) error {
	in.inputs, in.unresolved = s.resolveAll(ctx, sources)
	in.inputs, in.duplicates = decode.Unique(in.inputs)
	if in.lake != "" {
		kept := in.inputs[:0]
		for _, x := range in.inputs {
			if decode.Within(x, in.lake) {
				in.inLake = append(in.inLake, x)
				continue
			}
			kept = append(kept, x)
		}
		in.inputs = kept
	}
	for _, err := range in.unresolved {
		var ee *ExitError
		if errors.As(err, &ee) {
			return err
		}
	}
	if len(in.inputs) == 0 {
		lines := make([]string, 0, len(in.unresolved))
		for _, err := range in.unresolved {
			lines = append(lines, "input error: "+err.Error())
		}
		if len(lines) == 0 {
			return exit(ExitFailed, fmt.Errorf("%s: %w: no input files in %s", command, pipeline.ErrNothingRead, strings.Join(sources, " ")))
		}
		listErrors(s.stderr, lines, 0)
		return exit(ExitFailed, fmt.Errorf("%s: %w", command, pipeline.ErrNothingRead))
	}
	return nil
}

func (s *session) replay(ctx context.Context, o replayOptions, sources []string) error {
	in, err := s.checkInputs(ctx, "replay", o.readOptions, sources)
	if err != nil {
		return err
	}
	var chunk pipeline.ByteSize
	if o.chunk != "" {
		if chunk, err = pipeline.ParseByteSize(o.chunk); err != nil || chunk < 1 {
			return usage("replay: --chunk-size %q: want a size such as 4MiB or 65536", o.chunk)
		}
	}
	store, err := s.openLake(ctx, o.to, true)
	if err != nil {
		return err
	}
	// Before any input is read: a lake that cannot be written (a
	// read-only directory, no credentials, no such bucket, an endpoint
	// that does not answer) stops the run with one line.
	if err := probeLake(ctx, store); err != nil {
		return exit(ExitFailed, fmt.Errorf("replay: cannot write the lake %s: %s", store.URI(), s.describeStoreError(err)))
	}
	in.lake = o.to
	if err := s.resolveInputs(ctx, "replay", in, sources); err != nil {
		return err
	}
	var schemaStore pipeline.Schemas = pipeline.NewRegistrySchemas(store)
	var catalogErrs []string
	if o.database != "" {
		loc := o.location
		if loc == "" && isS3(o.to) {
			loc = o.to
		}
		if loc == "" {
			return usage("replay: --database needs --location s3://bucket/prefix when --to is a local directory: it is where Athena reads the lake")
		}
		syncTable, err := s.catalogSyncer(ctx, o.database, loc, in.config, store)
		if err != nil {
			return err
		}
		var mu sync.Mutex
		schemaStore = &pipeline.CatalogSchemas{Schemas: schemaStore, Sync: syncTable,
			OnError: func(table string, err error) {
				mu.Lock()
				defer mu.Unlock()
				catalogErrs = append(catalogErrs, fmt.Sprintf("catalog: %s: %v (run ddblake catalog sync)", table, err))
			}}
	}
	quarantine := pipeline.NewLakeErrors(store)
	aside := &asideLog{next: quarantine}
	bar := newProgress(s.stderr, "replaying")
	// Batches of one input are joined into files of the target size per
	// partition, in input order (see direct.Assembled).
	dest := direct.NewAssembled(store, direct.AssembleOptions{})
	r := &pipeline.Replay{
		Processor: &pipeline.Processor{
			Config:      in.config,
			Schemas:     schemaStore,
			Destination: dest,
			Quarantine:  aside,
		},
		Inputs:     quarantine,
		Decode:     in.decode,
		Format:     in.format,
		Workers:    membudget.For(os.Getenv, runtime.NumCPU()).Workers, // CPUs, within the memory budget
		ChunkBytes: int64(chunk),
		Progress:   bar.add,
	}
	sum, err := r.Run(ctx, in.inputs)
	bar.done()
	if err != nil {
		return usage("replay: %v", err)
	}
	// The files become part of their tables together, one manifest write
	// per partition (files of a run cut short are listed by its rerun).
	// An interrupted run still lists what it wrote, within a bound: a
	// second interrupt stops the process (see main).
	flushCtx := ctx
	if ctx.Err() != nil {
		var cancel context.CancelFunc
		flushCtx, cancel = context.WithTimeout(context.WithoutCancel(ctx), interruptedFlush)
		defer cancel()
	}
	if err := dest.Flush(flushCtx); err != nil {
		sum.WriteErrors = append(sum.WriteErrors, fmt.Errorf("list the written files in their manifests: %w", err))
	}
	for _, e := range catalogErrs {
		fmt.Fprintln(s.stderr, "warning: "+e)
	}
	inputErrs := append(append([]error(nil), in.unresolved...), sum.InputErrors...)

	fmt.Fprintln(s.stderr, summaryLine(sum, len(in.duplicates), inputErrs, strings.TrimSuffix(o.to, "/")+"/_errors"))
	var lines []string
	if sum.Interrupted {
		for _, name := range sum.Finished {
			lines = append(lines, "finished: "+name)
		}
	}
	for _, e := range inputErrs {
		lines = append(lines, "input error: "+oneLine(e.Error()))
	}
	lines = append(lines, groupAlike("write error: ", sum.WriteErrors)...)
	lines = append(lines, overCapLines(sum.OverCap)...)
	lines = append(lines, duplicateLines(in.duplicates)...)
	if n := len(in.inLake); n > 0 {
		lines = append(lines, fmt.Sprintf("skipped: %s inside the lake %s, which this run writes (%s...)", plural(n, "file"), o.to, in.inLake[0].Name))
	}
	shown, more := aside.list()
	listErrors(s.stderr, append(lines, shown...), more)
	if ctx.Err() != nil {
		return exit(ExitFailed, fmt.Errorf("interrupted (%w): run the same command again to complete the replay; it rewrites the files of this run, so no row is written twice", context.Cause(ctx)))
	}
	return exitCode(ctx, sum, inputErrs)
}

// interruptedFlush bounds the manifest writes of an interrupted replay.
const interruptedFlush = 30 * time.Second

// duplicateLines says, for each input left out as a duplicate, which
// input reads its data.
func duplicateLines(dups []decode.Duplicate) []string {
	lines := make([]string, len(dups))
	for i, d := range dups {
		if d.InExport {
			lines[i] = fmt.Sprintf("skipped: %s: part of the export %s, read with its manifest", d.Input.Name, d.Of)
		} else {
			lines[i] = fmt.Sprintf("skipped: %s: the same data as %s, read once", d.Input.Name, d.Of)
		}
	}
	return lines
}

// summaryLine is the one line that ends a replay; dups inputs were left
// out as duplicates. An interrupted run's line says how many inputs were
// finished (the exit error says it was interrupted).
func summaryLine(sum pipeline.Summary, dups int, inputErrs []error, errorsAt string) string {
	tables := map[string]int{} // tables that got rows
	for t, n := range sum.TableRows {
		if n > 0 {
			tables[t] = n
		}
	}
	var b strings.Builder
	if sum.Interrupted {
		fmt.Fprintf(&b, "replayed %s of %s to the end", group(len(sum.Finished)), plural(sum.Inputs, "input"))
	} else {
		fmt.Fprintf(&b, "replayed %s", plural(sum.Inputs, "input"))
	}
	if dups > 0 {
		fmt.Fprintf(&b, " (%s skipped: the same data given twice)", plural(dups, "duplicate"))
	}
	fmt.Fprintf(&b, ": %s → %s in %s",
		plural(sum.Records, "record"), plural(sum.Rows, "row"), plural(len(tables), "table"))
	if len(tables) > 0 {
		fmt.Fprintf(&b, " (%s)", tableList(tables))
	}
	fmt.Fprintf(&b, ", %s, %s", plural(sum.Files, "file"), iecBytes(sum.Bytes))
	if len(sum.Renamed) > 0 {
		var renamed []string
		for _, t := range slices.Sorted(maps.Keys(sum.Renamed)) {
			renamed = append(renamed, t+" ← "+sum.Renamed[t])
		}
		fmt.Fprintf(&b, "; named apart from a table whose name sanitizes alike: %s", strings.Join(renamed, ", "))
	}
	if sum.SetAside > 0 {
		fmt.Fprintf(&b, "; %s set aside in %s", group(sum.SetAside), errorsAt)
	}
	if sum.Misfits > 0 {
		fmt.Fprintf(&b, "; %s kept in _extra (no fitting column)", plural(sum.Misfits, "value"))
	}
	if len(sum.OverCap) > 0 {
		fmt.Fprintf(&b, "; %s past the column cap", plural(len(sum.OverCap), "new attribute path"))
	}
	if len(inputErrs) > 0 {
		fmt.Fprintf(&b, "; %s not read to the end", plural(len(inputErrs), "input"))
	}
	switch unwritten := max(sum.Records-sum.Rows-sum.SetAside, 0); {
	case len(sum.WriteErrors) > 0:
		fmt.Fprintf(&b, "; %s not written (%s)", plural(unwritten, "record"), plural(len(sum.WriteErrors), "write error"))
	case unwritten > 0: // interrupted while writing
		fmt.Fprintf(&b, "; %s read but not written", plural(unwritten, "record"))
	}
	fmt.Fprintf(&b, "; %s, %s records/s, %.1f MB/s", seconds(sum.Elapsed),
		group(int(rate(float64(sum.Records), sum.Elapsed))), rate(float64(sum.RawBytes)/1e6, sum.Elapsed))
	return b.String()
}

// groupAlike writes one line per error, each on one line, but errors with
// the same root cause as an earlier one (the last error of the chain: the
// same "permission denied", the same endpoint not answering) are counted
// on that one's line as "... and N more like it".
func groupAlike(prefix string, errs []error) []string {
	var lines []string
	var more []int
	index := map[string]int{}
	for _, e := range errs {
		key := innermost(e).Error()
		if i, ok := index[key]; ok {
			more[i]++
			continue
		}
		index[key] = len(lines)
		lines = append(lines, prefix+oneLine(e.Error()))
		more = append(more, 0)
	}
	for i, n := range more {
		if n > 0 {
			lines[i] += fmt.Sprintf(" ... and %s more like it", group(n))
		}
	}
	return lines
}

// overCapLines lists the paths that got no column because their table
// reached its column cap, one line each, sorted.
func overCapLines(oc []pipeline.OverCap) []string {
	oc = slices.Clone(oc)
	slices.SortFunc(oc, func(a, b pipeline.OverCap) int {
		return cmp.Or(cmp.Compare(a.Table, b.Table), cmp.Compare(a.Path, b.Path))
	})
	lines := make([]string, len(oc))
	for i, o := range oc {
		lines[i] = fmt.Sprintf("column cap: %s: %s kept in _extra (the table has its max_columns %d columns)", o.Table, o.Path, o.Cap)
	}
	return lines
}

// exitCode maps what a run did to its exit code.
func exitCode(ctx context.Context, sum pipeline.Summary, inputErrs []error) error {
	switch {
	case ctx.Err() != nil:
		return exit(ExitFailed, fmt.Errorf("interrupted: %w", context.Cause(ctx)))
	case len(sum.WriteErrors) > 0:
		return exit(ExitFailed, nil)
	case sum.Records == 0 && len(inputErrs) > 0 && !anyRead(inputErrs):
		return exit(ExitFailed, pipeline.ErrNothingRead)
	case sum.SetAside > 0 || len(inputErrs) > 0:
		return exit(ExitPartial, nil)
	}
	return nil
}

// readErrors are the input errors of inputs that were opened and read,
// as opposed to sources that are missing or cannot be opened.
var readErrors = []error{
	decode.ErrEmpty, decode.ErrTruncated, decode.ErrBadDocument, decode.ErrRecordTooLarge,
	decode.ErrCorruptGzip, decode.ErrUnknownFormat, decode.ErrBadManifest, decode.ErrUnsupported,
	decode.ErrMissingFile, decode.ErrNoTable, decode.ErrNoTime, decode.ErrChecksum, decode.ErrItemCount,
	decode.ErrLineTooLong, decode.ErrBadIon,
}

// anyRead reports whether one of errs comes from an input that was read
// (empty, truncated, corrupt...), rather than one that could not be opened.
func anyRead(errs []error) bool {
	for _, err := range errs {
		for _, r := range readErrors {
			if errors.Is(err, r) {
				return true
			}
		}
	}
	return false
}

// asideLog is a pipeline.SetAsider that passes entries on and keeps the first
// ones, to list them after the summary line.
type asideLog struct {
	next  pipeline.SetAsider
	mu    sync.Mutex
	lines []string
	more  int
}

// SetAside writes the entries through next and notes them.
func (a *asideLog) SetAside(ctx context.Context, batchID string, entries []pipeline.SetAside) error {
	if err := a.next.SetAside(ctx, batchID, entries); err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, e := range entries {
		if len(a.lines) >= maxListed {
			a.more++
			continue
		}
		a.lines = append(a.lines, "set aside: "+describeAside(e))
	}
	return nil
}

// list returns the noted entries and the number of the others.
func (a *asideLog) list() ([]string, int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.lines...), a.more
}

// describeAside names a set-aside record's source, position and reason.
func describeAside(e pipeline.SetAside) string {
	var re *decode.RecordError
	if errors.As(e.Err, &re) {
		return re.Error() // names the source, line or record, and path
	}
	return fmt.Sprintf("%s: %s: %v", e.Source, decode.Where(e.Line, e.Index), e.Err)
}
