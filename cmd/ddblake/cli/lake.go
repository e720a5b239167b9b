package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ddblake/ddblake/internal/awsclient"
	"github.com/ddblake/ddblake/internal/awsconfig"
	"github.com/ddblake/ddblake/pipeline/decode"
	"github.com/ddblake/ddblake/pipeline/decode/s3objects"
	"github.com/ddblake/ddblake/sink"
	"github.com/ddblake/ddblake/sink/localstore"
	"github.com/ddblake/ddblake/sink/s3store"
)

// awsConfig loads the default AWS configuration chain with the session's
// call bounds (--aws-timeout, --aws-attempts), in us-east-1 when it names
// no region.
func (s *session) awsConfig(ctx context.Context) (aws.Config, error) {
	opts, err := s.awsOptions()
	if err != nil {
		return aws.Config{}, err
	}
	cfg, err := awsconfig.Load(ctx, opts)
	if err != nil {
		return aws.Config{}, exit(ExitUsage, fmt.Errorf("aws configuration: %w", err))
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	return cfg, nil
}

// s3ClientFor returns the session's S3 client, made on first use from the
// default AWS configuration chain and the endpoint variables.
func (s *session) s3ClientFor(ctx context.Context) (*s3.Client, error) {
	if s.s3 != nil {
		return s.s3, nil
	}
	cfg, err := s.awsConfig(ctx)
	if err != nil {
		return nil, err
	}
	endpoint := s.getenv("AWS_ENDPOINT_URL_S3")
	if endpoint == "" {
		endpoint = s.getenv("AWS_ENDPOINT_URL")
	}
	pathStyle := s.pathStyle || localEndpoint(endpoint)
	if v := s.getenv("DDBLAKE_S3_PATH_STYLE"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, usage("DDBLAKE_S3_PATH_STYLE=%q: want true or false", v)
		}
		pathStyle = pathStyle || b
	}
	s.s3 = awsclient.S3(cfg, func(o *s3.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
		o.UsePathStyle = pathStyle
		// S3-compatible servers often send no checksums; that is no
		// reason to log a line per object read.
		o.DisableLogOutputChecksumValidationSkipped = true
	})
	return s.s3, nil
}

// Environment variables of the AWS call bounds, for when the flags are
// not given.
const (
	EnvAWSTimeout  = "DDBLAKE_AWS_TIMEOUT"
	EnvAWSAttempts = "DDBLAKE_AWS_ATTEMPTS"
)

// awsOptions returns the bounds of AWS calls: the flags, else the
// environment, else the defaults.
func (s *session) awsOptions() (awsclient.Options, error) {
	o := awsclient.Options{AttemptTimeout: s.awsTimeout, MaxAttempts: s.awsAttempts}
	if v := s.getenv(EnvAWSTimeout); v != "" && o.AttemptTimeout == 0 {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return o, usage("%s=%q: want a duration such as 20s", EnvAWSTimeout, v)
		}
		o.AttemptTimeout = d
	}
	if v := s.getenv(EnvAWSAttempts); v != "" && o.MaxAttempts == 0 {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return o, usage("%s=%q: want a number of attempts such as 3", EnvAWSAttempts, v)
		}
		o.MaxAttempts = n
	}
	if s.awsTimeout < 0 {
		return o, usage("--aws-timeout %v: want a positive duration", s.awsTimeout)
	}
	if s.awsAttempts < 0 {
		return o, usage("--aws-attempts %d: want 1 or more", s.awsAttempts)
	}
	if err := o.Validate(); err != nil {
		return o, usage("%v", err)
	}
	return o, nil
}

// localEndpoint reports whether an endpoint URL names an IP address or
// localhost, where buckets cannot be host names.
func localEndpoint(endpoint string) bool {
	if endpoint == "" {
		return false
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return false
	}
	h := u.Hostname()
	return h == "localhost" || net.ParseIP(h) != nil
}

// isS3 reports whether a location is an s3:// URI.
func isS3(loc string) bool { return strings.HasPrefix(loc, "s3://") }

// openLake opens the lake at loc, a local directory or s3://bucket/prefix.
// A local lake that does not exist is created when create is set, else it
// is an error.
func (s *session) openLake(ctx context.Context, loc string, create bool) (sink.Store, error) {
	if isS3(loc) {
		if _, _, err := s3store.ParseURI(loc); err != nil {
			return nil, usage("lake %s: %v", loc, err)
		}
		client, err := s.s3ClientFor(ctx)
		if err != nil {
			return nil, err
		}
		st, err := s3store.New(client, loc, s3store.Options{})
		if err != nil {
			return nil, usage("lake %s: %v", loc, err)
		}
		return st, nil
	}
	if !create {
		fi, err := os.Stat(loc)
		if err != nil {
			return nil, exit(ExitFailed, fmt.Errorf("lake %s: %w", loc, err))
		}
		if !fi.IsDir() {
			return nil, exit(ExitFailed, fmt.Errorf("lake %s: not a directory", loc))
		}
	}
	st, err := localstore.New(loc)
	if err != nil {
		return nil, exit(ExitFailed, err)
	}
	return st, nil
}

// resolver returns the Resolver of the session's sources: local paths,
// stdin for "-", and S3 objects through the session's client.
func (s *session) resolver() *decode.Resolver {
	return &decode.Resolver{
		Local: decode.LocalFS{},
		Stdin: s.stdin,
		S3: func(ctx context.Context, bucket string) (decode.ObjectReader, error) {
			client, err := s.s3ClientFor(ctx)
			if err != nil {
				return nil, err
			}
			return s3objects.New(client, bucket), nil
		},
	}
}

// resolveAll resolves each source on its own, so that one missing source
// does not hide the others: it returns the inputs of the sources that
// could be resolved and an error for each that could not.
func (s *session) resolveAll(ctx context.Context, sources []string) ([]decode.Input, []error) {
	r := s.resolver()
	var inputs []decode.Input
	var errs []error
	for _, src := range sources {
		ins, err := r.Resolve(ctx, src)
		if err != nil {
			var ee *ExitError
			if errors.As(err, &ee) { // a bad S3 setting: the whole run is off
				return nil, []error{err}
			}
			errs = append(errs, err)
			continue
		}
		inputs = append(inputs, ins...)
	}
	return inputs, errs
}
