package membudget

import (
	"math"
	"runtime"
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
		machine int64
	}{
		{"default, 2 CPUs", nil, 2, 448 << 20, 2, "default", 24 << 30},
		{"default, 16 CPUs with the memory: the budget follows the workers", nil, 16, (64 + 16*64) << 20, 16, "default", 64 << 30},
		{"default, 16 CPUs in 2 GiB: half the machine bounds the workers", nil, 16, 1 << 30, 15, "default", 2 << 30},
		{"default, 8 CPUs in a 512 MiB container", nil, 8, 256 << 20, 3, "default", 512 << 20},
		{"default, a 128 MiB container: one worker", nil, 4, 64 << 20, 1, "default", 128 << 20},
		{"default, memory unknown", nil, 16, 448 << 20, 6, "default", 0},
		{"GOMEMLIMIT raises both", map[string]string{"GOMEMLIMIT": "2GiB"}, 16, 2 << 30, 16, "GOMEMLIMIT", 0},
		{"GOMEMLIMIT small: one worker", map[string]string{"GOMEMLIMIT": "100MiB"}, 8, 100 << 20, 1, "GOMEMLIMIT", 0},
		{"GOMEMLIMIT in bytes", map[string]string{"GOMEMLIMIT": "536870912"}, 2, 512 << 20, 2, "GOMEMLIMIT", 0},
		{"GOMEMLIMIT off", map[string]string{"GOMEMLIMIT": "off"}, 4, math.MaxInt64, 4, "GOMEMLIMIT", 0},
		{"GOMEMLIMIT unreadable is ignored", map[string]string{"GOMEMLIMIT": "lots"}, 2, 448 << 20, 2, "default", 0},
		{"Lambda 256 MB", map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256"}, 1, 224 << 20, 1, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", 0},
		{"Lambda 128 MB keeps half at least", map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128"}, 1, 96 << 20, 1, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", 0},
		{"Lambda 1769 MB, 2 vCPUs", map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1769"}, 2, (1769 << 20) - (1769<<20)/8, 2, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", 0},
		{"GOMEMLIMIT wins over Lambda", map[string]string{"GOMEMLIMIT": "300MiB", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024"}, 2, 300 << 20, 2, "GOMEMLIMIT", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			machine := tc.machine
			if machine == 0 && tc.source != "default" {
				machine = 64 << 30 // a named budget does not look at the machine
			}
			p := ForMachine(env(tc.env), tc.cpus, machine)
			require.Equal(t, Plan{Limit: tc.limit, Workers: tc.workers, Source: tc.source}, p)
		})
	}
}

// TestFit: a pool that wants more workers than the CPUs (the Lambda's
// backfill overlaps reads with two) gets them where the budget holds
// them, and no more.
func TestFit(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	lambda := func(mb string) Plan {
		return ForMachine(env(map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": mb}), 2, 0)
	}
	require.Equal(t, 1, lambda("128").Fit(2), "96 MiB hold one")
	require.Equal(t, 2, lambda("256").Fit(2), "224 MiB hold two")
	require.Equal(t, 6, lambda("10240").Fit(6))
	require.Equal(t, 1, lambda("10240").Fit(0), "at least one")
}

// TestMachineMemory: on Linux the machine's memory is known, and no more
// than its RAM.
func TestMachineMemory(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc and /sys")
	}
	m := MachineMemory()
	require.Positive(t, m)
	require.LessOrEqual(t, m, meminfoTotal())
	p := For(func(string) string { return "" }, 2)
	require.LessOrEqual(t, p.Limit, max(m/2, int64(DefaultBudget)))
}
