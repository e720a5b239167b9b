package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ddblake/ddblake/internal/awsclient"
	"github.com/ddblake/ddblake/sink/firehose"
)

// Environment variables the function reads. The AWS SDK reads its own as
// well: AWS_REGION, credentials, and endpoint overrides such as
// AWS_ENDPOINT_URL_S3 and AWS_ENDPOINT_URL_FIREHOSE.
const (
	// EnvLake is the lake root: s3://bucket/prefix (a local directory is
	// accepted too, for trying the function outside AWS).
	EnvLake = "DDBLAKE_LAKE"
	// EnvSink is "s3" (the default: Parquet straight to the lake) or
	// "firehose" (flat JSON rows to Firehose).
	EnvSink = "DDBLAKE_SINK"
	// EnvFirehoseStream is the delivery stream name, or a template in
	// which "{table}" stands for the lake table (firehose sink).
	EnvFirehoseStream = "DDBLAKE_FIREHOSE_STREAM"
	// EnvConfig is the YAML configuration: a path in the package
	// (relative to LAMBDA_TASK_ROOT) or an s3:// URI; empty for the
	// defaults.
	EnvConfig = "DDBLAKE_CONFIG"
	// EnvS3PathStyle, when true, addresses S3 as endpoint/bucket/key, as
	// S3-compatible servers need.
	EnvS3PathStyle = "DDBLAKE_S3_PATH_STYLE"
	// EnvMaskKey is the mask key itself (keep it in the function's
	// encrypted environment), for configurations with mask rules; or
	// the configuration names a file in the package or an S3 object with
	// mask_key.
	EnvMaskKey = "DDBLAKE_MASK_KEY"
	// EnvDeadlineMargin overrides how long before the function's deadline
	// it stops delivering (a Go duration such as "3s"); by default a tenth
	// of the time left, between 1s and 5s.
	EnvDeadlineMargin = "DDBLAKE_DEADLINE_MARGIN"
	// EnvGlueDatabase is the Glue database of the lake's tables: when
	// set, the function keeps them (and the <table>_latest views) in step
	// with the registry as it commits new columns, and the Firehose sink
	// writes itself the rows Firehose might not convert whole.
	EnvGlueDatabase = "DDBLAKE_GLUE_DATABASE"
	// EnvCatalogSync, "false", turns the catalog sync off where a
	// database is set (default true).
	EnvCatalogSync = "DDBLAKE_CATALOG_SYNC"
	// EnvFirehoseSchemaDelay is how long after a column reaches the Glue
	// table the Firehose sink trusts Firehose to convert it (a Go
	// duration; default 30m).
	EnvFirehoseSchemaDelay = "DDBLAKE_FIREHOSE_SCHEMA_DELAY"
	// EnvAWSTimeout bounds one attempt of an S3 or Firehose call (a Go
	// duration; default 20s for S3, 10s for Firehose): no answer, or no
	// byte moving, for this long fails the attempt.
	EnvAWSTimeout = "DDBLAKE_AWS_TIMEOUT"
	// EnvAWSAttempts is the most attempts of one S3 call (default 3);
	// Firehose calls are retried by the sender, within the deadline.
	EnvAWSAttempts = "DDBLAKE_AWS_ATTEMPTS"
	// EnvFunctionName is set by Lambda; it is the metrics' dimension.
	EnvFunctionName = "AWS_LAMBDA_FUNCTION_NAME"
	// EnvTaskRoot is set by Lambda: where the package is unpacked.
	EnvTaskRoot = "LAMBDA_TASK_ROOT"
)

// Sink names.
const (
	SinkS3       = "s3"
	SinkFirehose = "firehose"
)

// defaultFunctionName names the function in metrics outside Lambda.
const defaultFunctionName = "ddblake-lambda"

// Env is the function's configuration, read once at start.
type Env struct {
	Lake           string
	Sink           string
	FirehoseStream string
	Config         string
	TaskRoot       string
	// MaskKey is DDBLAKE_MASK_KEY; it is never logged.
	MaskKey     string
	S3PathStyle bool
	// DeadlineMargin is 0 for the default rule.
	DeadlineMargin time.Duration
	FunctionName   string
	// GlueDatabase is DDBLAKE_GLUE_DATABASE; CatalogSync is on where it
	// is set unless DDBLAKE_CATALOG_SYNC=false.
	GlueDatabase string
	CatalogSync  bool
	// FirehoseSchemaDelay is 0 for the default.
	FirehoseSchemaDelay time.Duration
	// AWSTimeout and AWSAttempts bound AWS calls; 0 for the defaults.
	AWSTimeout  time.Duration
	AWSAttempts int
}

// EnvFrom reads the configuration through getenv (os.Getenv in main) and
// validates it. The error wraps ErrBadEnv and names the variable.
func EnvFrom(getenv func(string) string) (Env, error) {
	e := Env{
		Lake:           strings.TrimSpace(getenv(EnvLake)),
		Sink:           strings.ToLower(strings.TrimSpace(getenv(EnvSink))),
		FirehoseStream: strings.TrimSpace(getenv(EnvFirehoseStream)),
		Config:         strings.TrimSpace(getenv(EnvConfig)),
		MaskKey:        getenv(EnvMaskKey),
		TaskRoot:       getenv(EnvTaskRoot),
		FunctionName:   getenv(EnvFunctionName),
		GlueDatabase:   strings.TrimSpace(getenv(EnvGlueDatabase)),
	}
	e.CatalogSync = e.GlueDatabase != ""
	if v := strings.TrimSpace(getenv(EnvCatalogSync)); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return e, fmt.Errorf("%w: %s=%q: want true or false", ErrBadEnv, EnvCatalogSync, v)
		}
		e.CatalogSync = b && e.GlueDatabase != ""
	}
	if v := strings.TrimSpace(getenv(EnvFirehoseSchemaDelay)); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return e, fmt.Errorf("%w: %s=%q: want a duration such as 30m", ErrBadEnv, EnvFirehoseSchemaDelay, v)
		}
		e.FirehoseSchemaDelay = d
	}
	if e.Sink == "" {
		e.Sink = SinkS3
	}
	if e.FunctionName == "" {
		e.FunctionName = defaultFunctionName
	}
	if v := strings.TrimSpace(getenv(EnvS3PathStyle)); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return e, fmt.Errorf("%w: %s=%q: want true or false", ErrBadEnv, EnvS3PathStyle, v)
		}
		e.S3PathStyle = b
	}
	if v := strings.TrimSpace(getenv(EnvDeadlineMargin)); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return e, fmt.Errorf("%w: %s=%q: want a duration such as 3s", ErrBadEnv, EnvDeadlineMargin, v)
		}
		e.DeadlineMargin = d
	}
	if v := strings.TrimSpace(getenv(EnvAWSTimeout)); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return e, fmt.Errorf("%w: %s=%q: want a duration such as 20s", ErrBadEnv, EnvAWSTimeout, v)
		}
		e.AWSTimeout = d
	}
	if v := strings.TrimSpace(getenv(EnvAWSAttempts)); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return e, fmt.Errorf("%w: %s=%q: want a number of attempts such as 3", ErrBadEnv, EnvAWSAttempts, v)
		}
		e.AWSAttempts = n
	}
	return e, e.Validate()
}

// awsOptions returns the bounds of the function's AWS calls.
func (e Env) awsOptions() awsclient.Options {
	return awsclient.Options{AttemptTimeout: e.AWSTimeout, MaxAttempts: e.AWSAttempts}
}

// Validate checks that the lake is set and the sink is known, with a
// valid stream template for Firehose. The error wraps ErrBadEnv.
func (e Env) Validate() error {
	if e.Lake == "" {
		return fmt.Errorf("%w: %s is required (s3://bucket/prefix)", ErrBadEnv, EnvLake)
	}
	if e.GlueDatabase != "" && !strings.HasPrefix(e.Lake, "s3://") {
		return fmt.Errorf("%w: %s needs an s3:// %s: the Glue tables read the lake from S3", ErrBadEnv, EnvGlueDatabase, EnvLake)
	}
	if err := e.awsOptions().Validate(); err != nil {
		return fmt.Errorf("%w: %s, %s: %w", ErrBadEnv, EnvAWSTimeout, EnvAWSAttempts, err)
	}
	switch e.Sink {
	case SinkS3:
	case SinkFirehose:
		if e.FirehoseStream == "" {
			return fmt.Errorf("%w: %s=firehose needs %s (a delivery stream name or a {table} template)", ErrBadEnv, EnvSink, EnvFirehoseStream)
		}
		if err := (firehose.Config{Stream: e.FirehoseStream}).Validate(); err != nil {
			return fmt.Errorf("%w: %s: %w", ErrBadEnv, EnvFirehoseStream, err)
		}
	default:
		return fmt.Errorf("%w: %s=%q: want %s or %s", ErrBadEnv, EnvSink, e.Sink, SinkS3, SinkFirehose)
	}
	return nil
}
