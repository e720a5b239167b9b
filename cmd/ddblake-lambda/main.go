package main

import (
	"context"
	"log/slog"
	"os"
	"runtime"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/ddblake/ddblake/internal/membudget"
)

func main() {
	// The soft memory limit follows the function's memory
	// (AWS_LAMBDA_FUNCTION_MEMORY_SIZE) unless GOMEMLIMIT sets one.
	membudget.For(os.Getenv, runtime.NumCPU()).Apply(os.Getenv)
	ctx := context.Background()
	h, err := start(ctx, os.Getenv)
	if err != nil {
		// Lambda reports the failed init; the line says why.
		slog.New(slog.NewJSONHandler(os.Stdout, nil)).Error("init failed", slog.String("error", err.Error()))
		os.Exit(1)
	}
	lambda.Start(h)
}

// start reads the environment and builds the handler.
func start(ctx context.Context, getenv func(string) string) (*Handler, error) {
	env, err := EnvFrom(getenv)
	if err != nil {
		return nil, err
	}
	return NewHandler(ctx, env, os.Stdout)
}
