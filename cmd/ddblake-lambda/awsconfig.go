package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/endpointcreds"

	"github.com/ddblake/ddblake/internal/awsclient"
)

// awsConfig returns the function's AWS configuration, read from what
// Lambda puts in every function's environment: the region (AWS_REGION),
// and the execution role's credentials (AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN) or, without them, the
// container credentials endpoint (AWS_CONTAINER_CREDENTIALS_FULL_URI with
// AWS_CONTAINER_AUTHORIZATION_TOKEN, as SnapStart functions get). The
// endpoint overrides AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE>
// (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL_FIREHOSE) apply as the SDK
// applies them; tests point them at local servers.
//
// It replaces config.LoadDefaultConfig, which also reads shared config
// files, SSO, web identity and instance metadata: a function has none of
// them, and leaving their code out (TestLambdaImports) makes the bootstrap
// smaller and its start faster (the SSO, STS and sign-in clients' package
// init). Its calls are bounded by o (awsclient.Apply), as the command
// line's (internal/awsconfig) are. It fails when neither kind of
// credentials is there, or for bad bounds.
func awsConfig(_ context.Context, o awsclient.Options, getenv func(string) string) (aws.Config, error) {
	cfg := aws.Config{Region: getenv("AWS_REGION")}
	if cfg.Region == "" {
		cfg.Region = getenv("AWS_DEFAULT_REGION")
	}
	if id, secret := getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY"); id != "" && secret != "" {
		cfg.Credentials = aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(id, secret, getenv("AWS_SESSION_TOKEN")))
	} else if uri := getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI"); uri != "" {
		token, tokenFile := getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN"), getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")
		cfg.Credentials = aws.NewCredentialsCache(endpointcreds.New(uri, func(o *endpointcreds.Options) {
			if tokenFile != "" {
				o.AuthorizationTokenProvider = endpointcreds.TokenProviderFunc(func() (string, error) {
					b, err := os.ReadFile(tokenFile)
					return strings.TrimSpace(string(b)), err
				})
			} else if token != "" {
				o.AuthorizationToken = token
			}
		}))
	} else {
		return cfg, fmt.Errorf("no AWS credentials: neither AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY nor AWS_CONTAINER_CREDENTIALS_FULL_URI is set")
	}
	if u := getenv("AWS_ENDPOINT_URL"); u != "" {
		cfg.BaseEndpoint = aws.String(u)
	}
	cfg.ConfigSources = []any{envEndpoints(getenv)}
	if err := awsclient.Apply(&cfg, o); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// envEndpoints gives service clients the endpoint of AWS_ENDPOINT_URL_<ID>
// (the SDK ID in upper case, spaces as underscores), as the SDK's shared
// configuration does.
type envEndpoints func(string) string

// GetServiceBaseEndpoint implements the SDK's service endpoint source.
func (e envEndpoints) GetServiceBaseEndpoint(_ context.Context, sdkID string) (string, bool, error) {
	v := e("AWS_ENDPOINT_URL_" + strings.ReplaceAll(strings.ToUpper(sdkID), " ", "_"))
	return v, v != "", nil
}
