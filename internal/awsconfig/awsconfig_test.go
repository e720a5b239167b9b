package awsconfig_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/internal/awsclient"
	"github.com/ddblake/ddblake/internal/awsconfig"
)

// TestLoadBounds: the loaded configuration carries the bounds of the
// options (attempts, the per-attempt middleware), and bad bounds fail
// before anything is read.
func TestLoadBounds(t *testing.T) {
	_, err := awsconfig.Load(context.Background(), awsclient.Options{MaxAttempts: -1})
	require.ErrorIs(t, err, awsclient.ErrBadOptions)

	o := awsclient.Options{AttemptTimeout: time.Second, MaxAttempts: 4}
	cfg, err := awsconfig.Load(context.Background(), o,
		config.WithRegion("eu-west-1"),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("k", "s", "")),
		// No shared files of the machine running the test.
		config.WithSharedConfigFiles([]string{}), config.WithSharedCredentialsFiles([]string{}))
	require.NoError(t, err)
	require.Equal(t, "eu-west-1", cfg.Region)
	require.Equal(t, 4, cfg.Retryer().MaxAttempts())
	require.NotEmpty(t, cfg.APIOptions, "the per-attempt timeout middleware")
	var bounded aws.Config
	require.NoError(t, awsclient.Apply(&bounded, o))
	require.IsType(t, bounded.HTTPClient, cfg.HTTPClient)
	require.Len(t, cfg.APIOptions, len(bounded.APIOptions))
}
