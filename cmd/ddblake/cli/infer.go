package cli

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/goccy/go-yaml"
	"github.com/spf13/cobra"

	"github.com/ddblake/ddblake/flatten"
	"github.com/ddblake/ddblake/pipeline"
	"github.com/ddblake/ddblake/pipeline/decode"
)

// inferBatchItems is how many items an infer worker flattens before it
// folds them into its Inferrer.
const inferBatchItems = 4096

func (s *session) inferCommand() *cobra.Command {
	var o readOptions
	cmd := &cobra.Command{
		Use:   "infer [--config F] SOURCE...",
		Short: "Propose column declarations as YAML",
		Long: `Infer reads SOURCEs, flattens every item as replay would, and prints a
configuration (YAML) that declares, for every attribute path of every table,
the column type that fits all the values seen, not only those of the first
batch: integers that turn fractional become decimal(38,s), numbers too wide
for a decimal become string, and a path whose values differ in DynamoDB type
becomes json. A map whose keys, over all the data, look like data (user ids,
emoji, dates; see docs/DESIGN.md) is declared as one map<string,V> column,
and nothing is declared inside it.

The output is the --config file (if any) with the inferred columns added to
each table's columns; declared columns are kept as they are. Use it as
replay's --config so a new lake types every column to fit all of its data.
Paths that cannot be declared are listed in comments.`,
		Example: `  ddblake infer exports/ > ddblake.yaml
  ddblake replay --config ddblake.yaml --to lake exports/`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return s.infer(cmd.Context(), o, args)
		},
	}
	o.register(cmd)
	return cmd
}

func (s *session) infer(ctx context.Context, o readOptions, sources []string) error {
	in, err := s.readInputs(ctx, "infer", o, sources)
	if err != nil {
		return err
	}
	cfg := in.config
	if cfg == nil {
		cfg = &pipeline.Config{}
	}
	sc := &inferScan{cfg: cfg, flatteners: map[string]*flatten.Flattener{}, result: map[string]*flatten.Inferrer{},
		redactor: pipeline.NewRedactor(cfg), bar: newProgress(s.stderr, "scanning")}
	sc.run(ctx, in)
	sc.bar.done()

	doc, err := inferredConfig(cfg, sc)
	if err != nil {
		return exit(ExitFailed, fmt.Errorf("infer: %w", err))
	}
	if _, err := s.stdout.Write(doc); err != nil {
		return exit(ExitFailed, fmt.Errorf("infer: standard output: %w", err))
	}

	inputErrs := append(append([]error(nil), in.unresolved...), sc.inputErrs...)
	lines := make([]string, 0, len(inputErrs)+len(sc.bad))
	for _, e := range inputErrs {
		lines = append(lines, "input error: "+e.Error())
	}
	lines = append(lines, duplicateLines(in.duplicates)...)
	lines = append(lines, sc.bad...)
	fmt.Fprintf(s.stderr, "inferred %s of %s from %s in %s; %s\n",
		plural(sc.columns, "column"), plural(len(sc.result), "table"), plural(sc.records, "record"),
		plural(len(in.inputs), "input"), plural(sc.badCount, "bad record"))
	listErrors(s.stderr, lines, sc.badCount-len(sc.bad))
	return exitCode(ctx, pipeline.Summary{Counts: pipeline.Counts{Records: sc.records, SetAside: sc.badCount}}, inputErrs)
}

// inferScan reads inputs in parallel and folds every item into one
// Inferrer per configuration table (the DynamoDB table name, or the
// logical table of a routing rule).
type inferScan struct {
	cfg      *pipeline.Config
	redactor *pipeline.Redactor // what the bad-record lines may say
	bar      *progress

	mu         sync.Mutex
	flatteners map[string]*flatten.Flattener
	result     map[string]*flatten.Inferrer
	records    int
	badCount   int
	bad        []string // the first maxListed bad records
	inputErrs  []error
	columns    int
}

// inferTable is one worker's state for one table.
type inferTable struct {
	batch *flatten.Batch
	inf   *flatten.Inferrer
}

func (sc *inferScan) run(ctx context.Context, in *input) {
	queue := make(chan decode.Input)
	var wg sync.WaitGroup
	for range min(runtime.NumCPU(), len(in.inputs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sc.worker(ctx, in, queue)
		}()
	}
	for _, input := range in.inputs {
		select {
		case queue <- input:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(queue)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		sc.inputErrs = append(sc.inputErrs, err)
	}
}

func (sc *inferScan) worker(ctx context.Context, in *input, queue <-chan decode.Input) {
	dec, err := decode.NewDecoder(in.decode)
	tables := map[string]*inferTable{}
	var (
		records, badCount int
		bad               []string
		inputErrs         []error
	)
	for input := range queue {
		if err != nil { // options checked by readInputs; reported per input all the same
			inputErrs = append(inputErrs, err)
			continue
		}
		read := pipeline.Progress{Input: input.Name}
		derr := dec.DecodeInput(ctx, input, in.format, func(rec *decode.ChangeRecord, rerr *decode.RecordError) error {
			records++
			read.Records++
			if rerr != nil {
				read.RawBytes += int64(len(rerr.Raw))
				badCount++
				if len(bad) < maxListed {
					bad = append(bad, "bad record: "+sc.redactor.RecordError(rerr).Error())
				}
				return nil
			}
			read.RawBytes += int64(len(rec.Raw))
			routed, err := sc.cfg.Route(rec)
			if err == nil {
				var t *inferTable
				if t, err = sc.table(tables, routed.ConfigName, routed.Config); err == nil {
					t.batch.AddItem(flatten.Meta{EventName: rec.EventName}, routed.Image)
					if t.batch.Len() >= inferBatchItems {
						t.inf.Add(t.batch)
						t.batch.Reset()
					}
				}
			}
			if err != nil {
				badCount++
				if len(bad) < maxListed {
					bad = append(bad, fmt.Sprintf("bad record: %s: %s: %v", rec.Source, decode.Where(rec.Line, rec.Index), err))
				}
			}
			return nil
		})
		sc.bar.add(read)
		if derr != nil {
			inputErrs = append(inputErrs, pipelineErrors(derr)...)
		}
	}
	sc.mu.Lock()
	defer sc.mu.Unlock()
	for key, t := range tables {
		t.inf.Add(t.batch)
		if r, ok := sc.result[key]; ok {
			r.Merge(t.inf)
		} else {
			sc.result[key] = t.inf
		}
	}
	sc.records += records
	sc.badCount += badCount
	if room := maxListed - len(sc.bad); room > 0 {
		sc.bad = append(sc.bad, bad[:min(room, len(bad))]...)
	}
	sc.inputErrs = append(sc.inputErrs, inputErrs...)
}

// table returns a worker's state for key, with the flattener shared by
// every worker.
func (sc *inferScan) table(tables map[string]*inferTable, key string, tc pipeline.TableConfig) (*inferTable, error) {
	if t, ok := tables[key]; ok {
		return t, nil
	}
	sc.mu.Lock()
	f, ok := sc.flatteners[key]
	if !ok {
		var err error
		if f, err = flatten.New(tc.TableConfig); err != nil {
			sc.mu.Unlock()
			return nil, fmt.Errorf("table %s: %w", key, err)
		}
		sc.flatteners[key] = f
	}
	sc.mu.Unlock()
	t := &inferTable{batch: f.NewBatch(), inf: flatten.NewInferrer()}
	tables[key] = t
	return t, nil
}

// pipelineErrors splits an input's error into its *InputErrors (an
// export may report several), or returns it as it is.
func pipelineErrors(err error) []error {
	ies := decode.InputErrors(err)
	if len(ies) == 0 {
		return []error{err}
	}
	out := make([]error, len(ies))
	for i, e := range ies {
		out[i] = e
	}
	return out
}

// inferredConfig returns the configuration cfg with every inferred column
// declared, as YAML, with comments on the paths left out. It checks that
// the document reads back with pipeline.ParseConfig.
func inferredConfig(cfg *pipeline.Config, sc *inferScan) ([]byte, error) {
	out := *cfg
	out.Tables = maps.Clone(cfg.Tables)
	if out.Tables == nil {
		out.Tables = map[string]pipeline.TableConfig{}
	}
	var notes []string
	for _, key := range slices.Sorted(maps.Keys(sc.result)) {
		tc := out.Tables[key]
		tc.Columns = maps.Clone(tc.Columns)
		if tc.Columns == nil {
			tc.Columns = map[string]string{}
		}
		for _, c := range sc.result[key].Columns() {
			if c.Declared {
				continue
			}
			p, ok := configPath(c.Path)
			switch {
			case c.Note != "":
				notes = append(notes, fmt.Sprintf("%s: %s: %s", key, c.Path, c.Note))
			case !ok:
				notes = append(notes, fmt.Sprintf("%s: %s: %s (a '.' inside an attribute name cannot be written as a configuration path)",
					key, c.Path, c.Type))
			default:
				tc.Columns[p] = c.Type.String()
				sc.columns++
			}
		}
		if len(tc.Columns) == 0 {
			tc.Columns = nil
		}
		out.Tables[key] = tc
	}
	body, err := yaml.MarshalWithOptions(&out, yaml.Indent(2), yaml.IndentSequence(true))
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString("# Column declarations proposed by `ddblake infer`: each type fits every\n")
	b.WriteString("# value seen. Review them, then use this file as --config.\n")
	if len(notes) > 0 {
		b.WriteString("#\n# Not declared (replay types these from the batch that creates their column):\n")
		for _, n := range notes {
			b.WriteString("#   " + strings.ReplaceAll(n, "\n", " ") + "\n")
		}
	}
	b.Write(body)
	if _, err := pipeline.ParseConfig(b.Bytes()); err != nil {
		return nil, fmt.Errorf("the proposed configuration does not read back: %w", err)
	}
	return b.Bytes(), nil
}

// configPath writes an attribute path as a configuration path: names
// joined with '.'. A name holding a '.' cannot be written so (the
// configuration splits paths at every '.'), nor can the empty path.
func configPath(path string) (string, bool) {
	if path == "" {
		return "", false
	}
	segs := flatten.SplitPath(path)
	for _, s := range segs {
		if strings.Contains(s, ".") {
			return "", false
		}
	}
	return strings.Join(segs, "."), true
}
