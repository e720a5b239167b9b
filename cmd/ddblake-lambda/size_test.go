package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// maxBootstrapBytes is the most the Lambda package's bootstrap may weigh
// (linux/arm64, stripped, built as make lambda builds it): README's
// "Speed" section documents it.
const maxBootstrapBytes = 22_000_000

// unusedMethods are exported methods of SDK clients the function never
// calls. The linker drops them unless some package in the binary uses
// reflection on methods with names it cannot see (reflect.Value.Method
// or MethodByName with a variable, or a Methods iterator reached through
// a constant MethodByName("Methods"), as protobuf before v1.36 did):
// then every exported method of every type kept is linked in, and the
// bootstrap grows by about 12 MB. Stripped Go binaries keep function
// names (for stack traces), so their absence is visible.
var unusedMethods = []string{
	"service/s3.(*Client).DeleteBucketCors",
	"service/s3.(*Client).PutBucketLifecycleConfiguration",
	"service/firehose.(*Client).CreateDeliveryStream",
}

// TestBootstrapSize builds the function for linux/arm64 exactly as make
// lambda does and fails when it weighs more than maxBootstrapBytes, or
// when the linker kept methods nothing calls (dead code elimination
// turned off by a dependency).
func TestBootstrapSize(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the bootstrap for linux/arm64 (a minute of CPU on a cold cache); run without -short")
	}
	out := filepath.Join(t.TempDir(), "bootstrap")
	cmd := exec.Command(goTool(), "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags", "-s -w", "-o", out, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64")
	msg, err := cmd.CombinedOutput()
	require.NoError(t, err, "build bootstrap: %s", msg)
	bin, err := os.ReadFile(out)
	require.NoError(t, err)
	for _, m := range unusedMethods {
		require.False(t, bytes.Contains(bin, []byte(m)),
			"the bootstrap holds %s, which the function never calls: a dependency turned off the linker's dead code elimination (find it with go build -ldflags=-dumpdep)", m)
	}
	require.LessOrEqual(t, len(bin), maxBootstrapBytes,
		"bootstrap (linux/arm64, stripped) is %d bytes, over the documented %d: measure what grew with go tool nm -size -sort size", len(bin), maxBootstrapBytes)
	t.Logf("bootstrap (linux/arm64, stripped): %d bytes", len(bin))
}

// lambdaExcluded are packages the function must not link: the AWS SDK's
// default configuration chain (the function reads its environment, see
// awsConfig) with the SSO, STS, sign-in and instance metadata clients it
// brings, the SDK's Glue client and types (the catalog sync calls Glue
// through sink/catalog/glueapi), and the CloudFormation library of the
// CLI's ddl command. Each costs binary size and, worse, package init at
// every cold start.
var lambdaExcluded = []string{
	"github.com/aws/aws-sdk-go-v2/config",
	"github.com/aws/aws-sdk-go-v2/service/glue",
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds",
	"github.com/aws/aws-sdk-go-v2/service/signin",
	"github.com/aws/aws-sdk-go-v2/service/sso",
	"github.com/aws/aws-sdk-go-v2/service/ssooidc",
	"github.com/aws/aws-sdk-go-v2/service/sts",
	"github.com/awslabs/goformation/v7",
}

// TestLambdaImports fails when the function's import graph (as make
// lambda builds it) reaches a package of lambdaExcluded.
func TestLambdaImports(t *testing.T) {
	cmd := exec.Command(goTool(), "list", "-deps", "-tags", "lambda.norpc", ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64")
	out, err := cmd.Output()
	require.NoError(t, err, "go list")
	for _, pkg := range strings.Fields(string(out)) {
		for _, ex := range lambdaExcluded {
			require.False(t, pkg == ex || strings.HasPrefix(pkg, ex+"/"),
				"the function imports %s (of %s): keep it in the command line's packages", pkg, ex)
		}
	}
}
