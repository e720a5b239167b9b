// Package membudget derives a process's Go memory settings from its
// memory budget: the runtime's soft memory limit, and how many batches it
// may work on at once. The budget is GOMEMLIMIT when set, else the
// function's memory in Lambda (AWS_LAMBDA_FUNCTION_MEMORY_SIZE), else
// DefaultBudget. The worker count follows the CPUs but stops where the
// budget does, so that a 16-core machine does not run 16 replay workers
// in 448 MiB, and a 256 MB function leaves room to the runtime outside
// the heap.
//
//	plan := membudget.For(os.Getenv, runtime.NumCPU())
//	plan.Apply(os.Getenv) // sets the soft limit unless GOMEMLIMIT did
//	replay.Workers = plan.Workers
package membudget

import (
	"math"
	"runtime/debug"
	"strconv"
	"strings"
)

const (
	// DefaultBudget is the budget of a process that names none: the
	// replay's peak RSS stays under 512 MiB.
	DefaultBudget = 448 << 20
	// WorkerBytes is the memory one replay worker needs: its batch being
	// written and the next one read (each at most 4 MB of records, which
	// become about 17 times that in allocations), and its writer's
	// buffers. Measured: peak RSS 150-165 MiB with two workers.
	WorkerBytes = 64 << 20
	// baseBytes is what the process needs besides its workers.
	baseBytes = 64 << 20
	// lambdaReserve is kept out of a function's limit for what the Go
	// heap does not count (stacks, the binary, the runtime): an eighth of
	// the function's memory, at least 32 MiB.
	lambdaReserve = 32 << 20
)

// Plan is the memory settings of a process.
type Plan struct {
	// Limit is the soft memory limit, in bytes.
	Limit int64
	// Workers is how many batches to decode and write at once: the CPUs,
	// at most what the budget holds, at least one.
	Workers int
	// Source names where the budget came from: "GOMEMLIMIT",
	// "AWS_LAMBDA_FUNCTION_MEMORY_SIZE" or "default".
	Source string
}

// For returns the plan of a process whose environment getenv reads and
// that has cpus CPUs. A GOMEMLIMIT or AWS_LAMBDA_FUNCTION_MEMORY_SIZE that
// cannot be read is ignored, as the runtime ignores a bad GOMEMLIMIT.
func For(getenv func(string) string, cpus int) Plan {
	p := Plan{Limit: DefaultBudget, Source: "default"}
	if n, ok := parseLimit(getenv("GOMEMLIMIT")); ok {
		p.Limit, p.Source = n, "GOMEMLIMIT"
	} else if mb, err := strconv.ParseInt(strings.TrimSpace(getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")), 10, 64); err == nil && mb > 0 && mb < 1<<30 {
		mem := mb << 20
		p.Limit, p.Source = mem-max(mem/8, lambdaReserve), "AWS_LAMBDA_FUNCTION_MEMORY_SIZE"
		p.Limit = max(p.Limit, mem/2)
	}
	p.Workers = max(1, cpus)
	if fit := (p.Limit - baseBytes) / WorkerBytes; int64(p.Workers) > fit {
		p.Workers = int(max(1, fit))
	}
	return p
}

// Apply sets the runtime's soft memory limit to p.Limit, unless
// GOMEMLIMIT (which the runtime reads itself) is set.
func (p Plan) Apply(getenv func(string) string) {
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(p.Limit)
	}
}

// parseLimit reads a GOMEMLIMIT value: bytes with an optional B, KiB,
// MiB, GiB or TiB suffix, or "off".
func parseLimit(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false
	}
	if s == "off" {
		return math.MaxInt64, true
	}
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}} {
		if rest, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = rest, u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > math.MaxInt64/mult {
		return 0, false
	}
	return n * mult, true
}
