package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/spf13/cobra"

	"github.com/ddblake/ddblake/pipeline"
	"github.com/ddblake/ddblake/pipeline/decode"
	"github.com/ddblake/ddblake/sink/catalog/glueapi"
)

// Run runs the ddblake command line args (without the program name) and
// returns its exit code (see the Exit constants). It reads stdin for the
// source "-", writes results to stdout and messages to stderr; the
// environment is read for S3 settings only.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	s := &session{stdin: stdin, stdout: stdout, stderr: stderr, getenv: os.Getenv}
	root := s.rootCommand()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var ee *ExitError
	switch {
	case errors.As(err, &ee):
	case s.started:
		ee = &ExitError{Code: ExitFailed, Err: err}
	default:
		// Errors cobra makes itself before running the command: unknown
		// command or flag, bad argument count.
		ee = &ExitError{Code: ExitUsage, Err: err}
	}
	if ee.Err != nil {
		fmt.Fprintf(stderr, "ddblake: %v\n", ee.Err)
		if ee.Code == ExitUsage && !errors.Is(ee.Err, ErrConfig) {
			fmt.Fprintln(stderr, "Run 'ddblake --help' for usage.")
		}
	}
	return ee.Code
}

// session is one run of the command line: its streams, environment and
// the S3 client, made when first needed.
type session struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string

	pathStyle bool
	// awsTimeout and awsAttempts are --aws-timeout and --aws-attempts;
	// zero when not given (then the environment, then the defaults).
	awsTimeout  time.Duration
	awsAttempts int
	s3          *s3.Client      // made on first use
	glue        *glueapi.Client // made on first use
	started     bool            // the command line parsed, a command runs
}

func (s *session) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "ddblake",
		Short: "Turn DynamoDB change data into a Parquet data lake that Athena queries",
		Long: `ddblake turns DynamoDB change data (stream events, Kinesis events, exported
stream files, table exports) into a Parquet data lake, and prints the Athena,
Glue, CloudFormation and Firehose definitions of its tables.

Exit codes: 0 all written; 3 done, but some records or inputs were set aside
(see the summary and <lake>/_errors/); 2 bad usage or configuration; 1 could
not finish.`,
		PersistentPreRun:  func(*cobra.Command, []string) { s.started = true },
		SilenceErrors:     true,
		SilenceUsage:      true,
		CompletionOptions: cobra.CompletionOptions{DisableDefaultCmd: true},
	}
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		if cmd == root {
			return usage("%v", err)
		}
		return usage("%s: %v", cmd.Name(), err)
	})
	root.PersistentFlags().BoolVar(&s.pathStyle, "s3-path-style", false,
		"address S3 buckets in the URL path (for S3-compatible servers; also DDBLAKE_S3_PATH_STYLE=true)")
	root.PersistentFlags().DurationVar(&s.awsTimeout, "aws-timeout", 0,
		"bound on one attempt of an S3 call: no answer, or no byte moving, for this long fails the attempt (default 20s; also DDBLAKE_AWS_TIMEOUT)")
	root.PersistentFlags().IntVar(&s.awsAttempts, "aws-attempts", 0,
		"attempts of one S3 call before it fails, the first included (default 3; also DDBLAKE_AWS_ATTEMPTS)")
	root.AddCommand(s.replayCommand(), s.compactCommand(), s.latestCommand(), s.ddlCommand(), s.catalogCommand(), s.inferCommand(), s.flattenCommand(), s.versionCommand())
	return root
}

// usageError is a usage message that is ErrUsage.
type usageError struct{ msg string }

// Error returns the message.
func (e *usageError) Error() string { return e.msg }

// Is reports whether target is ErrUsage.
func (e *usageError) Is(target error) bool { return target == ErrUsage }

// usage returns a usage error, exit code 2.
func usage(format string, a ...any) error {
	return exit(ExitUsage, &usageError{msg: fmt.Sprintf(format, a...)})
}

// loadConfig reads and checks the configuration file; none gives nil (the
// defaults).
func loadConfig(path string) (*pipeline.Config, error) {
	if path == "" {
		return nil, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, exit(ExitUsage, &configError{Err: err})
	}
	cfg, err := pipeline.ParseConfig(data)
	if err != nil {
		return nil, exit(ExitUsage, &configError{Path: path, Err: err})
	}
	return cfg, nil
}

// configError is a configuration file that cannot be used; it is
// ErrConfig.
type configError struct {
	Path string // empty when Err names the file
	Err  error
}

// Error names the file and the problem.
func (e *configError) Error() string {
	if e.Path == "" {
		return "config: " + e.Err.Error()
	}
	return "config " + e.Path + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *configError) Unwrap() error { return e.Err }

// Is reports whether target is ErrConfig.
func (e *configError) Is(target error) bool { return target == ErrConfig }

// parseFormat reads --format of the commands that read inputs.
func parseFormat(command, s string) (decode.Format, error) {
	f, err := decode.ParseFormat(s)
	if err != nil {
		names := make([]string, 0, len(decode.Formats()))
		for _, f := range decode.Formats() {
			names = append(names, string(f))
		}
		return "", usage("%s: --format %q: want one of %s", command, s, strings.Join(names, ", "))
	}
	return f, nil
}

// needSources checks that a command got at least one SOURCE.
func needSources(command string, args []string) error {
	if len(args) == 0 {
		return usage("%s: need at least one SOURCE (a file, directory, export directory, - or s3://bucket/key)", command)
	}
	stdin := 0
	for _, a := range args {
		if a == "-" {
			stdin++
		}
	}
	if stdin > 1 {
		return usage("%s: standard input (-) can be read only once", command)
	}
	return nil
}
