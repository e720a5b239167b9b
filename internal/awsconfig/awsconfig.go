// Package awsconfig loads the command line's AWS configuration: the SDK's
// default chain (environment, shared config and credentials files, SSO,
// web identity, instance and container roles), with every call bounded as
// internal/awsclient bounds them.
//
// It is a package of its own so that the Lambda function, which builds its
// configuration from the function's environment (cmd/ddblake-lambda),
// links none of that chain: config.LoadDefaultConfig brings the SSO, SSO
// OIDC, STS, sign-in and instance metadata clients, their code and their
// package initialisation.
//
//	cfg, err := awsconfig.Load(ctx, awsclient.Options{AttemptTimeout: 10 * time.Second})
//	s3c := awsclient.S3(cfg)
package awsconfig

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/ddblake/ddblake/internal/awsclient"
)

// Load reads the default AWS configuration chain with optFns, and bounds
// its calls, those of the credential providers included, with o (see
// awsclient.Apply). It fails for bad bounds (awsclient.ErrBadOptions) and
// as config.LoadDefaultConfig fails.
func Load(ctx context.Context, o awsclient.Options, optFns ...func(*config.LoadOptions) error) (aws.Config, error) {
	var bounded aws.Config
	if err := awsclient.Apply(&bounded, o); err != nil {
		return aws.Config{}, err
	}
	opts := append([]func(*config.LoadOptions) error{
		config.WithHTTPClient(bounded.HTTPClient),
		config.WithRetryer(bounded.Retryer),
	}, optFns...)
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, err
	}
	cfg.APIOptions = append(cfg.APIOptions, bounded.APIOptions...)
	return cfg, nil
}
