// Package membudget derives a process's Go memory settings from its
// memory budget: the runtime's soft memory limit, and how many batches it
// may work on at once, each from the other. The budget is GOMEMLIMIT when
// set, else the function's memory in Lambda
// (AWS_LAMBDA_FUNCTION_MEMORY_SIZE), else what the CPUs' workers need
// (at least DefaultBudget) within half the machine's memory (its cgroup's
// limit, else its RAM). The worker count follows the CPUs but stops where
// the budget does. So a 16-core machine runs 16 replay workers in about
// 1.1 GiB when it has the memory, a small container fewer in what it
// has, and a 256 MB function one or two, leaving room to the runtime
// outside the heap.
//
// The garbage collector keeps its default pacing (GOGC=100) under the
// limit: letting the heap grow to the limit before collecting (a higher
// GOGC) doubled the replay's peak RSS for no CPU saving the benchmarks
// could tell from their noise.
//
//	plan := membudget.For(os.Getenv, runtime.NumCPU())
//	plan.Apply(os.Getenv) // sets the soft limit unless GOMEMLIMIT did
//	replay.Workers = plan.Workers
package membudget

import (
	"bufio"
	"bytes"
	"math"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

const (
	// DefaultBudget is the least budget of a process that names none,
	// when the machine has twice that: the replay's peak RSS stays under
	// 512 MiB.
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
// that has cpus CPUs, on this machine (see MachineMemory).
func For(getenv func(string) string, cpus int) Plan {
	var machine int64
	if getenv("GOMEMLIMIT") == "" && getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE") == "" {
		machine = MachineMemory() // only a budget named by neither reads it
	}
	return ForMachine(getenv, cpus, machine)
}

// ForMachine returns the plan of a process whose environment getenv
// reads, with cpus CPUs on a machine of machine bytes of memory (0 when
// unknown: the budget is then DefaultBudget). A GOMEMLIMIT or
// AWS_LAMBDA_FUNCTION_MEMORY_SIZE that cannot be read is ignored, as the
// runtime ignores a bad GOMEMLIMIT.
func ForMachine(getenv func(string) string, cpus int, machine int64) Plan {
	p := Plan{Limit: DefaultBudget, Source: "default"}
	if machine > 0 {
		// What the workers of every CPU need, at least DefaultBudget,
		// within half the machine.
		want := max(DefaultBudget, baseBytes+int64(max(1, cpus))*WorkerBytes)
		p.Limit = min(want, machine/2)
	}
	if n, ok := parseLimit(getenv("GOMEMLIMIT")); ok {
		p.Limit, p.Source = n, "GOMEMLIMIT"
	} else if mb, err := strconv.ParseInt(strings.TrimSpace(getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")), 10, 64); err == nil && mb > 0 && mb < 1<<30 {
		mem := mb << 20
		p.Limit, p.Source = mem-max(mem/8, lambdaReserve), "AWS_LAMBDA_FUNCTION_MEMORY_SIZE"
		p.Limit = max(p.Limit, mem/2)
	}
	p.Workers = p.Fit(cpus)
	return p
}

// Fit returns n bounded by how many workers the budget holds, at least
// one: the worker count of a pool that wants n (Workers is Fit of the
// CPUs).
func (p Plan) Fit(n int) int {
	fit := max(1, (p.Limit-baseBytes)/WorkerBytes)
	return int(min(int64(max(1, n)), fit))
}

// MachineMemory returns the memory this process may use, in bytes: its
// cgroup's limit (cgroup v2 memory.max, or v1 memory.limit_in_bytes)
// when it sets one below the machine's RAM, else the RAM (MemTotal of
// /proc/meminfo); 0 where none can be read (not Linux).
func MachineMemory() int64 {
	ram := meminfoTotal()
	limit := int64(0)
	for _, path := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		if n, err := strconv.ParseInt(string(bytes.TrimSpace(b)), 10, 64); err == nil && n > 0 {
			limit = n
			break
		}
	}
	switch {
	case ram == 0:
		return limit
	case limit > 0 && limit < ram:
		return limit
	}
	return ram
}

// meminfoTotal reads MemTotal of /proc/meminfo, in bytes; 0 when it
// cannot.
func meminfoTotal() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil || kb <= 0 {
				return 0
			}
			return kb << 10
		}
	}
	return 0
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
