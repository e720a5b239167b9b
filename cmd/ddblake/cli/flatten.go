package cli

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/spf13/cobra"

	"github.com/ddblake/ddblake/flatten"
	"github.com/ddblake/ddblake/pipeline"
	"github.com/ddblake/ddblake/pipeline/decode"
	"github.com/ddblake/ddblake/sink"
)

func (s *session) flattenCommand() *cobra.Command {
	var o readOptions
	cmd := &cobra.Command{
		Use:   "flatten [--config F] SOURCE...",
		Short: "Print flat rows as JSON lines (debugging)",
		Long: `Flatten decodes and flattens SOURCEs as replay does, but writes nothing to a
lake: each row goes to standard output as one JSON object, "_table" (the lake
table) first, then the metadata columns, every non-null data column by name,
and _extra. Column types are decided as replay decides them in a new lake.
Records that cannot become rows are reported on standard error (exit code 3).`,
		Example: `  ddblake flatten events.json | jq .
  ddblake flatten --config ddblake.yaml --format jsonl --table chat-messages - < records.jsonl`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return s.flatten(cmd.Context(), o, args)
		},
	}
	o.register(cmd)
	return cmd
}

// readOptions are the flags of the commands that read SOURCEs without
// writing a lake.
type readOptions struct {
	config, format, table, exportTime string
}

func (o *readOptions) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.config, "config", "", "configuration file (YAML)")
	f.StringVar(&o.format, "format", string(decode.FormatAuto), "input format: auto, lambda, kinesis, jsonl, export or incremental")
	f.StringVar(&o.table, "table", "", "DynamoDB table name of inputs that name none")
	f.StringVar(&o.exportTime, "export-time", "", exportTimeUsage)
}

func (s *session) flatten(ctx context.Context, o readOptions, sources []string) error {
	in, err := s.readInputs(ctx, "flatten", o, sources)
	if err != nil {
		return err
	}
	out := &rowWriter{w: bufio.NewWriterSize(s.stdout, 1<<16)}
	aside := &asideWriter{w: s.stderr}
	r := &pipeline.Replay{
		Processor: &pipeline.Processor{Config: in.config, Schemas: newMemSchemas(), Destination: out, Quarantine: aside},
		Decode:    in.decode,
		Format:    in.format,
		Workers:   1, // rows in input order
	}
	sum, err := r.Run(ctx, in.inputs)
	if err != nil {
		return usage("flatten: %v", err)
	}
	if err := out.w.Flush(); err != nil && len(sum.WriteErrors) == 0 {
		sum.WriteErrors = append(sum.WriteErrors, err)
	}
	inputErrs := append(append([]error(nil), in.unresolved...), sum.InputErrors...)
	var lines []string
	for _, e := range inputErrs {
		lines = append(lines, "input error: "+e.Error())
	}
	for _, e := range sum.WriteErrors {
		lines = append(lines, "write error: "+e.Error())
	}
	lines = append(lines, overCapLines(sum.OverCap)...)
	lines = append(lines, duplicateLines(in.duplicates)...)
	listErrors(s.stderr, lines, 0)
	return exitCode(ctx, sum, inputErrs)
}

// rowWriter is the sink.Destination of the flatten command: rows as JSON lines.
type rowWriter struct {
	mu       sync.Mutex
	w        *bufio.Writer
	buf, row []byte
}

// Write writes the rows of one table, each as one line.
func (r *rowWriter) Write(ctx context.Context, batchID string, t *sink.Table, rows []flatten.Row) (sink.Delivery, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var d sink.Delivery
	for i := range rows {
		r.row = flatten.AppendRowJSON(r.row[:0], t.Schema, &rows[i])
		b := append(r.buf[:0], `{"_table":`...)
		b = flatten.AppendJSONString(b, t.Name)
		b = append(b, ',')
		b = append(b, r.row[1:]...) // the row's columns, without its own '{'
		b = append(b, '\n')
		r.buf = b
		if _, err := r.w.Write(b); err != nil {
			for j := i; j < len(rows); j++ {
				d.Failed = append(d.Failed, j)
			}
			return d, fmt.Errorf("standard output: %w", err)
		}
		d.Bytes += int64(len(b))
	}
	return d, nil
}

// asideWriter is the pipeline.SetAsider of the flatten command: it reports each
// record on standard error.
type asideWriter struct {
	mu sync.Mutex
	w  io.Writer
}

// SetAside reports the entries.
func (a *asideWriter) SetAside(ctx context.Context, batchID string, entries []pipeline.SetAside) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, e := range entries {
		if _, err := fmt.Fprintf(a.w, "set aside: %s\n", describeAside(e)); err != nil {
			return err
		}
	}
	return nil
}
