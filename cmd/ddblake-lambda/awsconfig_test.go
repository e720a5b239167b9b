package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/internal/awsclient"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// TestAWSConfigFromLambdaEnvironment checks the configuration built from a
// function's environment: region, the role's keys, and the endpoint
// overrides (one per service, and the general one).
func TestAWSConfigFromLambdaEnvironment(t *testing.T) {
	ctx := context.Background()
	cfg, err := awsConfig(ctx, awsclient.Options{}, envOf(map[string]string{
		"AWS_REGION": "ap-northeast-2", "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "SECRET", "AWS_SESSION_TOKEN": "TOKEN",
		"AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9000",
	}))
	require.NoError(t, err)
	require.Equal(t, "ap-northeast-2", cfg.Region)
	creds, err := cfg.Credentials.Retrieve(ctx)
	require.NoError(t, err)
	require.Equal(t, aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: "SECRET", SessionToken: "TOKEN", Source: creds.Source}, creds)
	require.Equal(t, "http://127.0.0.1:9000", aws.ToString(s3.NewFromConfig(cfg).Options().BaseEndpoint))
	require.Nil(t, firehose.NewFromConfig(cfg).Options().BaseEndpoint, "the S3 override is S3's only")

	cfg, err = awsConfig(ctx, awsclient.Options{}, envOf(map[string]string{
		"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "SECRET",
		"AWS_ENDPOINT_URL": "http://127.0.0.1:9001", "AWS_ENDPOINT_URL_FIREHOSE": "http://127.0.0.1:9002",
	}))
	require.NoError(t, err)
	require.Equal(t, "us-east-1", cfg.Region)
	require.Equal(t, "http://127.0.0.1:9001", aws.ToString(s3.NewFromConfig(cfg).Options().BaseEndpoint))
	require.Equal(t, "http://127.0.0.1:9002", aws.ToString(firehose.NewFromConfig(cfg).Options().BaseEndpoint))

	_, err = awsConfig(ctx, awsclient.Options{}, envOf(map[string]string{"AWS_REGION": "us-east-1"}))
	require.ErrorContains(t, err, "no AWS credentials")
}

// TestAWSConfigContainerCredentials checks the credentials endpoint a
// function without keys in its environment (SnapStart) reads.
func TestAWSConfigContainerCredentials(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "secret-token" {
			http.Error(w, "no", http.StatusForbidden)
			return
		}
		_, _ = w.Write([]byte(`{"AccessKeyId":"AKIDC","SecretAccessKey":"S","Token":"T","Expiration":"2100-01-01T00:00:00Z"}`))
	}))
	t.Cleanup(srv.Close)
	cfg, err := awsConfig(context.Background(), awsclient.Options{}, envOf(map[string]string{
		"AWS_REGION": "us-east-1", "AWS_CONTAINER_CREDENTIALS_FULL_URI": srv.URL, "AWS_CONTAINER_AUTHORIZATION_TOKEN": "secret-token",
	}))
	require.NoError(t, err)
	creds, err := cfg.Credentials.Retrieve(context.Background())
	require.NoError(t, err)
	require.Equal(t, "AKIDC", creds.AccessKeyID)
	require.Equal(t, "T", creds.SessionToken)
}
