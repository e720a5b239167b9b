// Command ddblake-sample writes ddblake's sample data: the checked-in
// sample set of every input format, a Lambda event of a given size, or a
// large full export.
//
//	ddblake-sample -out testdata/sample                  the sample set (dir must be empty; -force replaces it)
//	ddblake-sample -lambda-size 6MiB -out /tmp/event.json one Lambda event of ~6 MiB
//	ddblake-sample -export-size 1GiB -out /tmp/big        a 1 GiB (uncompressed) full export
//
// The data comes from internal/sample, whose DynamoDB JSON writer is kept
// apart from flatten's on purpose: an independent source of inputs for
// the tests of the decoders and the flattener.
//
// Exit codes: 0 done, 1 failed, 2 bad usage.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"time"

	"github.com/ddblake/ddblake/internal/sample"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// sampleDirs are the directories the sample set consists of; -force
// removes only these.
var sampleDirs = []string{"lambda", "export", "incremental", "jsonl", "kinesis"}

// run is the command; it returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("ddblake-sample", flag.ContinueOnError)
	fl.SetOutput(stderr)
	out := fl.String("out", "", "output directory (a file for -lambda-size)")
	seed := fl.Int64("seed", sample.DefaultConfig().Seed, "random seed: the same seed writes the same bytes")
	days := fl.Int("days", sample.DefaultConfig().Days, "days of history in the sample set")
	rooms := fl.Int("rooms-per-day", sample.DefaultConfig().RoomsPerDay, "chat rooms opened per day in the sample set")
	force := fl.Bool("force", false, "sample set: remove the sample's own directories in -out first")
	summary := fl.Bool("summary", false, "sample set: print the summary (files, counts) as JSON on stdout")
	exportSize := fl.String("export-size", "", "write a full export of this uncompressed size (e.g. 1GiB) instead of the sample set")
	table := fl.String("table", sample.TableMessages, "table of -export-size: chat-messages or chat-rooms")
	fileSize := fl.String("file-size", "128MiB", "uncompressed size of each data file of -export-size")
	lambdaSize := fl.String("lambda-size", "", "write one Lambda event of about this size (e.g. 6MiB) instead of the sample set")
	if err := fl.Parse(args); err != nil {
		return 2
	}
	usage := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "ddblake-sample: "+format+"\n", a...)
		fl.Usage()
		return 2
	}
	if *out == "" || fl.NArg() > 0 {
		return usage("-out is required and no arguments are taken")
	}
	if *exportSize != "" && *lambdaSize != "" {
		return usage("-export-size and -lambda-size exclude each other")
	}
	if *days < 1 || *rooms < 1 {
		return usage("-days and -rooms-per-day must be at least 1")
	}
	cfg := sample.DefaultConfig()
	cfg.Seed, cfg.Days, cfg.RoomsPerDay = *seed, *days, *rooms
	g, err := sample.New(cfg)
	if err != nil {
		return usage("%v", err)
	}
	began := time.Now()
	switch {
	case *lambdaSize != "":
		n, err := sample.ParseSize(*lambdaSize)
		if err != nil {
			return usage("-lambda-size: %v", err)
		}
		event, records, err := g.LambdaEvent(int(min(n, 1<<40)))
		if err != nil {
			return usage("%v", err)
		}
		if err := os.WriteFile(*out, event, 0o644); err != nil {
			fmt.Fprintf(stderr, "ddblake-sample: %v\n", err)
			return 1
		}
		fmt.Fprintf(stderr, "wrote %s: %d records, %d bytes\n", *out, records, len(event))
	case *exportSize != "":
		n, err := sample.ParseSize(*exportSize)
		if err != nil {
			return usage("-export-size: %v", err)
		}
		fs, err := sample.ParseSize(*fileSize)
		if err != nil {
			return usage("-file-size: %v", err)
		}
		res, err := g.WriteLargeExport(ctx, *out, sample.LargeExport{Table: *table, Size: n, FileSize: fs})
		if errors.Is(err, sample.ErrBadSize) || errors.Is(err, sample.ErrBadConfig) {
			return usage("%v", err)
		}
		if err != nil {
			fmt.Fprintf(stderr, "ddblake-sample: %v\n", err)
			return 1
		}
		el := time.Since(began)
		fmt.Fprintf(stderr, "wrote %s: %d items, %d data files, %d bytes uncompressed, %s (%.0f MB/s)\n",
			res.Dir, res.Items, res.Files, res.Bytes, el.Round(time.Millisecond), float64(res.Bytes)/1e6/el.Seconds())
	default:
		if *force {
			for _, d := range sampleDirs {
				if err := os.RemoveAll(filepath.Join(*out, d)); err != nil {
					fmt.Fprintf(stderr, "ddblake-sample: %v\n", err)
					return 1
				}
			}
		}
		sum, err := g.WriteSample(ctx, *out)
		if err != nil {
			fmt.Fprintf(stderr, "ddblake-sample: %v\n", err)
			if errors.Is(err, sample.ErrDirNotEmpty) {
				return 2
			}
			return 1
		}
		if *summary {
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			if err := enc.Encode(sum); err != nil {
				fmt.Fprintf(stderr, "ddblake-sample: %v\n", err)
				return 1
			}
		}
		changes := 0
		for _, t := range sum.Tables {
			changes += t.Inserts + t.Modifies + t.Removes
		}
		fmt.Fprintf(stderr, "wrote %s: %d inputs, %d changes over %d tables, %s\n",
			*out, len(sum.Files), changes, len(sum.Tables), time.Since(began).Round(time.Millisecond))
	}
	return 0
}
