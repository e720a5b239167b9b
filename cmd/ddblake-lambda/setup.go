package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ddblake/ddblake/internal/awsclient"
	"github.com/ddblake/ddblake/internal/membudget"
	"github.com/ddblake/ddblake/pipeline"
	"github.com/ddblake/ddblake/pipeline/decode"
	"github.com/ddblake/ddblake/pipeline/decode/s3objects"
	"github.com/ddblake/ddblake/schemas"
	"github.com/ddblake/ddblake/sink"
	"github.com/ddblake/ddblake/sink/catalog"
	"github.com/ddblake/ddblake/sink/catalog/glueapi"
	"github.com/ddblake/ddblake/sink/direct"
	"github.com/ddblake/ddblake/sink/firehose"
	"github.com/ddblake/ddblake/sink/latest"
	"github.com/ddblake/ddblake/sink/localstore"
	"github.com/ddblake/ddblake/sink/s3store"
)

// NewHandler builds the function once, at start: the AWS SDK clients
// (region, credentials and endpoint overrides from the environment, as
// the SDK reads them), the lake store, the configuration, and the
// Processor with its schema cache. out receives the per-invocation lines.
func NewHandler(ctx context.Context, env Env, out io.Writer) (*Handler, error) {
	if err := env.Validate(); err != nil {
		return nil, err
	}
	var (
		awsCfg aws.Config
		s3c    *s3.Client
	)
	needAWS := env.GlueDatabase != "" || strings.HasPrefix(env.Lake, "s3://") || strings.HasPrefix(env.Config, "s3://") || env.Sink == SinkFirehose
	if needAWS {
		var err error
		if awsCfg, err = awsConfig(ctx, env.awsOptions(), os.Getenv); err != nil {
			return nil, fmt.Errorf("aws configuration: %w", err)
		}
		s3c = newS3Client(awsCfg, env)
	}

	var store sink.Store
	var err error
	if strings.HasPrefix(env.Lake, "s3://") {
		store, err = s3store.New(s3c, env.Lake, s3store.Options{})
	} else {
		store, err = localstore.New(env.Lake)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrBadEnv, EnvLake, err)
	}

	cfg, err := loadConfig(ctx, env, s3c)
	if err != nil {
		return nil, err
	}
	if cfg != nil && s3c == nil && strings.HasPrefix(cfg.MaskKeySource, "s3://") {
		if awsCfg, err = awsConfig(ctx, env.awsOptions(), os.Getenv); err != nil {
			return nil, fmt.Errorf("aws configuration: %w", err)
		}
		s3c = newS3Client(awsCfg, env)
	}
	if err := loadMaskKey(ctx, env, cfg, s3c); err != nil {
		return nil, err
	}

	var cat *catalog.Catalog
	if env.GlueDatabase != "" {
		glueClient, err := glueapi.New(awsCfg, glueapi.Options{})
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrBadEnv, EnvGlueDatabase, err)
		}
		if cat, err = catalog.New(glueClient, catalog.Config{Database: env.GlueDatabase, Location: strings.TrimSuffix(env.Lake, "/"),
			Compression: tableCompression(cfg)}); err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrBadEnv, EnvGlueDatabase, err)
		}
	}
	var schemaStore pipeline.Schemas = pipeline.NewRegistrySchemas(store)
	var logMu sync.Mutex
	if cat != nil && env.CatalogSync {
		schemaStore = &pipeline.CatalogSchemas{Schemas: schemaStore,
			Sync: func(ctx context.Context, t *schemas.Schema) error {
				var st *schemas.LatestState
				if p, _, err := latest.Load(ctx, store, t.Table); err != nil {
					return err
				} else if p != nil {
					st = &schemas.LatestState{Generation: p.Generation, Through: p.Through}
				}
				_, err := cat.Sync(ctx, t, st)
				return err
			},
			OnError: func(table string, err error) {
				logMu.Lock()
				defer logMu.Unlock()
				logCatalogError(out, table, err)
			},
		}
	}

	var sk sink.Destination
	var delivered *FirehoseFiles
	switch env.Sink {
	case SinkFirehose:
		client := awsclient.Firehose(awsCfg)
		sender, err := firehose.New(client, firehose.Config{Stream: env.FirehoseStream, AttemptTimeout: env.AWSTimeout})
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadEnv, err)
		}
		fs := firehose.NewDestination(sender)
		if cat != nil {
			// Rows holding a column Firehose might not know yet are
			// written as Parquet by the function itself.
			fs.Columns = &catalog.SettledColumns{Catalog: cat, Delay: env.FirehoseSchemaDelay}
			fs.Direct = direct.New(store)
		}
		sk = fs
		if loc, ok := strings.CutPrefix(env.Lake, "s3://"); ok {
			bucket, prefix, _ := strings.Cut(loc, "/")
			delivered = &FirehoseFiles{Store: store, Bucket: bucket, Prefix: prefix, Stream: env.FirehoseStream}
		}
	default:
		sk = direct.New(store)
	}
	quarantine := pipeline.NewLakeErrors(store)
	return &Handler{
		Processor: &pipeline.Processor{
			Config:      cfg,
			Schemas:     schemaStore,
			Destination: sk,
			Quarantine:  quarantine,
		},
		Out:            out,
		FunctionName:   env.FunctionName,
		DeadlineMargin: env.DeadlineMargin,
		Firehose:       delivered,
		Lake:           env.Lake,
		Store:          store,
		Exports:        exportResolver(env),
		Inputs:         quarantine,
		// Two at least, to overlap S3 reads with the writes, within
		// what the function's memory holds (one in 128 MB).
		BackfillWorkers: membudget.For(os.Getenv, runtime.NumCPU()).Fit(max(2, runtime.NumCPU())),
	}, nil
}

// exportResolver resolves the backfill's exports: s3:// URIs through an
// S3 client made on first use (a function that serves a stream only
// never makes it), local paths as they are (for trying the function
// outside AWS).
func exportResolver(env Env) *decode.Resolver {
	var (
		once   sync.Once
		client *s3.Client
		err    error
	)
	return &decode.Resolver{
		Local: decode.LocalFS{},
		S3: func(ctx context.Context, bucket string) (decode.ObjectReader, error) {
			once.Do(func() {
				var awsCfg aws.Config
				if awsCfg, err = awsConfig(ctx, env.awsOptions(), os.Getenv); err == nil {
					client = newS3Client(awsCfg, env)
				}
			})
			if err != nil {
				return nil, fmt.Errorf("aws configuration: %w", err)
			}
			return s3objects.New(client, bucket), nil
		},
	}
}

// newS3Client returns the function's S3 client.
func newS3Client(awsCfg aws.Config, env Env) *s3.Client {
	return awsclient.S3(awsCfg, func(o *s3.Options) {
		o.UsePathStyle = env.S3PathStyle
		// Objects written without a checksum (the registry, a config)
		// would log a line per read; the summary line is the function's
		// only log.
		o.DisableLogOutputChecksumValidationSkipped = true
	})
}

// maxMaskKeyBytes bounds what is read of a mask key file or object.
const maxMaskKeyBytes = 64 << 10

// loadMaskKey sets cfg's mask key from DDBLAKE_MASK_KEY, or from the file
// in the package (relative to LAMBDA_TASK_ROOT) or the S3 object that
// cfg's mask_key names. Both given, or mask rules with no key, fail the
// init; no error shows the key.
func loadMaskKey(ctx context.Context, env Env, cfg *pipeline.Config, s3c *s3.Client) error {
	if cfg == nil {
		return nil
	}
	var key []byte
	switch {
	case env.MaskKey != "" && cfg.MaskKeySource != "":
		return fmt.Errorf("%w: mask key given twice, in %s and by mask_key %s: keep one", ErrConfig, EnvMaskKey, cfg.MaskKeySource)
	case env.MaskKey != "":
		key = []byte(env.MaskKey)
	case cfg.MaskKeySource != "":
		scheme, loc, err := pipeline.ParseMaskKeySource(cfg.MaskKeySource)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrConfig, err)
		}
		if key, err = readMaskKey(ctx, env, scheme, loc, s3c); err != nil {
			return fmt.Errorf("%w: mask_key %s: %w", ErrConfig, cfg.MaskKeySource, err)
		}
	case cfg.Masks():
		return fmt.Errorf("%w: the configuration masks values: set %s (in the function's encrypted environment), or mask_key: s3://bucket/key or file://PATH in the configuration",
			ErrNoMaskKey, EnvMaskKey)
	default:
		return nil
	}
	if err := cfg.SetMaskKey(key); err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return nil
}

// readMaskKey reads a key file in the package or an S3 object.
func readMaskKey(ctx context.Context, env Env, scheme, loc string, s3c *s3.Client) ([]byte, error) {
	var r io.ReadCloser
	if scheme == "s3" {
		bucket, key, _ := strings.Cut(loc, "/")
		out, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err != nil {
			return nil, err
		}
		r = out.Body
	} else {
		if !filepath.IsAbs(loc) && env.TaskRoot != "" {
			loc = filepath.Join(env.TaskRoot, loc)
		}
		f, err := os.Open(loc)
		if err != nil {
			return nil, err
		}
		r = f
	}
	defer r.Close()
	key, err := io.ReadAll(io.LimitReader(r, maxMaskKeyBytes+1))
	if err != nil {
		return nil, err
	}
	if len(key) > maxMaskKeyBytes {
		return nil, fmt.Errorf("larger than %d bytes: not a key", maxMaskKeyBytes)
	}
	return key, nil
}

// loadConfig reads DDBLAKE_CONFIG: nothing (the defaults), an s3:// URI,
// or a file path, relative to the package root when not absolute.
func loadConfig(ctx context.Context, env Env, s3c *s3.Client) (*pipeline.Config, error) {
	if env.Config == "" {
		return nil, nil
	}
	var data []byte
	if rest, ok := strings.CutPrefix(env.Config, "s3://"); ok {
		bucket, key, _ := strings.Cut(rest, "/")
		if bucket == "" || key == "" {
			return nil, fmt.Errorf("%w: %s=%q: want s3://bucket/key", ErrConfig, EnvConfig, env.Config)
		}
		out, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrConfig, env.Config, err)
		}
		defer out.Body.Close()
		if data, err = io.ReadAll(out.Body); err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrConfig, env.Config, err)
		}
	} else {
		path := env.Config
		if !filepath.IsAbs(path) && env.TaskRoot != "" {
			path = filepath.Join(env.TaskRoot, path)
		}
		var err error
		if data, err = os.ReadFile(path); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrConfig, err)
		}
	}
	cfg, err := pipeline.ParseConfig(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrConfig, env.Config, err)
	}
	return cfg, nil
}

// tableCompression is the parquet.compression table property of the
// configuration's default compression.
func tableCompression(cfg *pipeline.Config) string {
	c := cfg.Table("").Compression
	if c == "none" {
		return "UNCOMPRESSED"
	}
	return strings.ToUpper(c)
}

// logCatalogError writes one log line for a catalog sync that failed (the
// rows landed; the next batch of the table tries again).
func logCatalogError(out io.Writer, table string, err error) {
	line, _ := json.Marshal(map[string]string{"level": "WARN", "msg": "catalog sync failed", "table": table, "error": err.Error()})
	_, _ = out.Write(append(line, '\n'))
}
