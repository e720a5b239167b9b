package sample

import (
	"fmt"
	"time"
)

// Config chooses the workload. The zero value of a field means its
// default (see DefaultConfig); Seed 0 is a seed like any other.
type Config struct {
	// Seed makes the output: the same seed gives the same bytes.
	Seed int64
	// Start is the first instant of the history (UTC). Default
	// 2026-04-01T00:00:00Z.
	Start time.Time
	// Days is the length of the history. Default 4.
	Days int
	// RoomsPerDay is how many chat rooms open each day. Default 3.
	RoomsPerDay int
}

// DefaultConfig is the configuration of the checked-in sample.
func DefaultConfig() Config {
	return Config{
		Seed:        1,
		Start:       time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC),
		Days:        4,
		RoomsPerDay: 3,
	}
}

// withDefaults fills zero fields from DefaultConfig.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Start.IsZero() {
		c.Start = d.Start
	}
	if c.Days == 0 {
		c.Days = d.Days
	}
	if c.RoomsPerDay == 0 {
		c.RoomsPerDay = d.RoomsPerDay
	}
	return c
}

// Validate reports a field out of range, wrapping ErrBadConfig.
func (c Config) Validate() error {
	switch {
	case c.Days < 1 || c.Days > 366:
		return fmt.Errorf("%w: Days %d not in 1..366", ErrBadConfig, c.Days)
	case c.RoomsPerDay < 1 || c.RoomsPerDay > 100000:
		return fmt.Errorf("%w: RoomsPerDay %d not in 1..100000", ErrBadConfig, c.RoomsPerDay)
	case c.Start.Year() < 2000 || c.Start.Year() > 2200:
		return fmt.Errorf("%w: Start %s not in years 2000..2200", ErrBadConfig, c.Start)
	}
	return nil
}

// Generator produces the chat workload's data. It holds only its
// configuration: every method starts from the seed, so results do not
// depend on which methods ran before, and a Generator may be used from
// several goroutines at once.
type Generator struct {
	cfg Config
}

// New returns a Generator for cfg (zero fields take their defaults), or
// an error wrapping ErrBadConfig.
func New(cfg Config) (*Generator, error) {
	cfg = cfg.withDefaults()
	cfg.Start = cfg.Start.UTC()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Generator{cfg: cfg}, nil
}

// Config returns the generator's configuration, defaults filled in.
func (g *Generator) Config() Config { return g.cfg }
