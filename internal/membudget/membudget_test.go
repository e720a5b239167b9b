package membudget

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestFor(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	tests := []struct {
		name    string
		env     map[string]string
		cpus    int
		limit   int64
		workers int
		source  string
	}{
		{"default, 2 CPUs", nil, 2, 448 << 20, 2, "default"},
		{"default, 16 CPUs: the budget bounds the workers", nil, 16, 448 << 20, 6, "default"},
		{"GOMEMLIMIT raises both", map[string]string{"GOMEMLIMIT": "2GiB"}, 16, 2 << 30, 16, "GOMEMLIMIT"},
		{"GOMEMLIMIT small: one worker", map[string]string{"GOMEMLIMIT": "100MiB"}, 8, 100 << 20, 1, "GOMEMLIMIT"},
		{"GOMEMLIMIT in bytes", map[string]string{"GOMEMLIMIT": "536870912"}, 2, 512 << 20, 2, "GOMEMLIMIT"},
		{"GOMEMLIMIT off", map[string]string{"GOMEMLIMIT": "off"}, 4, math.MaxInt64, 4, "GOMEMLIMIT"},
		{"GOMEMLIMIT unreadable is ignored", map[string]string{"GOMEMLIMIT": "lots"}, 2, 448 << 20, 2, "default"},
		{"Lambda 256 MB", map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256"}, 1, 224 << 20, 1, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE"},
		{"Lambda 128 MB keeps half at least", map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128"}, 1, 96 << 20, 1, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE"},
		{"Lambda 1769 MB, 2 vCPUs", map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1769"}, 2, (1769 << 20) - (1769<<20)/8, 2, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE"},
		{"GOMEMLIMIT wins over Lambda", map[string]string{"GOMEMLIMIT": "300MiB", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024"}, 2, 300 << 20, 2, "GOMEMLIMIT"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := For(env(tc.env), tc.cpus)
			require.Equal(t, Plan{Limit: tc.limit, Workers: tc.workers, Source: tc.source}, p)
		})
	}
}
