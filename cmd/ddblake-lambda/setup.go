package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	awsfirehose "github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ddblake/ddblake/pipeline"
	"github.com/ddblake/ddblake/sink"
	"github.com/ddblake/ddblake/sink/firehose"
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
	needAWS := strings.HasPrefix(env.Lake, "s3://") || strings.HasPrefix(env.Config, "s3://") || env.Sink == SinkFirehose
	if needAWS {
		var err error
		if awsCfg, err = awsconfig.LoadDefaultConfig(ctx); err != nil {
			return nil, fmt.Errorf("aws configuration: %w", err)
		}
		s3c = s3.NewFromConfig(awsCfg, func(o *s3.Options) {
			o.UsePathStyle = env.S3PathStyle
			// Objects written without a checksum (the registry, a
			// config) would log a line per read; the summary line is
			// the function's only log.
			o.DisableLogOutputChecksumValidationSkipped = true
		})
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

	var sk pipeline.Sink
	switch env.Sink {
	case SinkFirehose:
		client := awsfirehose.NewFromConfig(awsCfg, firehose.WithoutSDKRetries)
		sender, err := firehose.New(client, firehose.Config{Stream: env.FirehoseStream})
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadEnv, err)
		}
		sk = pipeline.NewFirehoseSink(sender)
	default:
		sk = pipeline.NewLakeSink(store)
	}
	return &Handler{
		Processor: &pipeline.Processor{
			Config:     cfg,
			Schemas:    pipeline.NewRegistrySchemas(store),
			Sink:       sk,
			Quarantine: pipeline.NewStoreQuarantine(store),
		},
		Out:            out,
		FunctionName:   env.FunctionName,
		DeadlineMargin: env.DeadlineMargin,
	}, nil
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
