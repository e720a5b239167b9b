package catalog

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"slices"
	"time"

	"github.com/aws/smithy-go"

	"github.com/ddblake/ddblake/schemas"
	"github.com/ddblake/ddblake/schemas/gluedef"
	"github.com/ddblake/ddblake/sink/catalog/glueapi"
)

// CatalogedAtParam is the column parameter holding the time (RFC 3339,
// UTC) at which Sync added the column to the Glue table.
const CatalogedAtParam = "ddblake.cataloged_at"

// API is the part of the Glue API Sync uses (*glueapi.Client has it).
// Its calls are made once each: Sync retries whole merges, reading the
// table again, which a resent UpdateTable would not.
type API interface {
	GetTable(ctx context.Context, in *glueapi.GetTableInput) (*glueapi.GetTableOutput, error)
	CreateTable(ctx context.Context, in *glueapi.CreateTableInput) error
	UpdateTable(ctx context.Context, in *glueapi.UpdateTableInput) error
}

// Config configures a Catalog. Zero fields take the defaults.
type Config struct {
	// Database is the Glue database of the tables (required; it must
	// exist).
	Database string
	// CatalogID is the catalog's account id; empty for the caller's.
	CatalogID string
	// Location is the lake's S3 root (s3://bucket/prefix), as the tables
	// read it (required).
	Location string
	// Compression is the parquet.compression table property (see
	// schemas.Options).
	Compression string
	// NoViews leaves the <table>_latest views alone.
	NoViews bool
	// MaxAttempts bounds the merges of one table or view: each conflict,
	// throttling or unknown outcome costs one (default 8).
	MaxAttempts int
	// Backoff is the first wait after a failed attempt, doubled after
	// each, with full jitter (default 200ms, at most 5s).
	Backoff time.Duration
	// AttemptTimeout bounds each call (default 10s).
	AttemptTimeout time.Duration
	// Now gives the time stamped on added columns (default time.Now).
	Now func() time.Time
}

// Validate checks the database and location.
func (c Config) Validate() error {
	if c.Database == "" {
		return fmt.Errorf("%w: a database is required", ErrBadConfig)
	}
	o := schemas.Options{Database: c.Database, Location: c.Location, Compression: c.Compression}
	if err := o.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrBadConfig, err)
	}
	if c.MaxAttempts < 0 || c.Backoff < 0 || c.AttemptTimeout < 0 {
		return fmt.Errorf("%w: negative attempts, backoff or timeout", ErrBadConfig)
	}
	return nil
}

// Catalog syncs lake tables into one Glue database. It is safe for
// concurrent use.
type Catalog struct {
	api  API
	cfg  Config
	opts schemas.Options
}

// New returns a Catalog writing through api.
func New(api API, cfg Config) (*Catalog, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.MaxAttempts == 0 {
		cfg.MaxAttempts = 8
	}
	if cfg.Backoff == 0 {
		cfg.Backoff = 200 * time.Millisecond
	}
	if cfg.AttemptTimeout == 0 {
		cfg.AttemptTimeout = 10 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Catalog{api: api, cfg: cfg, opts: schemas.Options{Database: cfg.Database, Location: cfg.Location, Compression: cfg.Compression}}, nil
}

// Database is the Glue database the Catalog writes.
func (c *Catalog) Database() string { return c.cfg.Database }

// Change says what Sync did to one Glue table or view.
type Change struct {
	// Name is the Glue table or view.
	Name string
	// Action is Created, Updated or Unchanged.
	Action Action
	// Added lists the columns appended (tables) or the view's columns
	// (a created or re-created view).
	Added []string
	// Kept lists the columns whose stored type differs from the
	// registry's, as "name: stored (registry)": never changed.
	Kept []string
}

// Action is what Sync did to a table or view.
type Action string

// Actions.
const (
	Created   Action = "created"
	Updated   Action = "updated"
	Unchanged Action = "unchanged"
)

// Result is what one Sync did, table first, then the state table and the
// view when they apply.
type Result struct {
	Changes []Change
}

// Changed reports whether Sync wrote anything.
func (r Result) Changed() bool {
	for _, c := range r.Changes {
		if c.Action != Unchanged {
			return true
		}
	}
	return false
}

// Sync brings the Glue definitions of s's table up to the registry: the
// table (created, or given the columns it lacks and the registry's
// projection parameters), the state table when state is not nil, and the
// <table>_latest view (over the state when there is one) when s records
// key attributes. Each one is merged in a loop of GetTable then
// CreateTable or UpdateTable with the VersionId read, retried with backoff
// on a concurrent change, throttling, a server error or an unknown
// outcome, at most MaxAttempts times. It fails with ErrForeignTable when
// the name holds a definition of another kind, ErrRetriesExhausted, or
// the context's error; what it did before is in the Result.
func (c *Catalog) Sync(ctx context.Context, s *schemas.Schema, state *schemas.LatestState) (Result, error) {
	var res Result
	want, err := gluedef.LakeTable(s, c.opts)
	if err != nil {
		return res, err
	}
	ch, err := c.syncOne(ctx, want, mergeTable)
	res.Changes = append(res.Changes, ch)
	if err != nil {
		return res, err
	}
	if state != nil {
		want, err := gluedef.StateTable(s, c.opts)
		if err != nil {
			return res, err
		}
		ch, err := c.syncOne(ctx, want, mergeTable)
		res.Changes = append(res.Changes, ch)
		if err != nil {
			return res, err
		}
	}
	if c.cfg.NoViews || len(s.Keys) == 0 {
		return res, nil
	}
	view, err := ViewInput(s, c.opts, state)
	if err != nil {
		return res, err
	}
	ch, err = c.syncOne(ctx, view, mergeView)
	res.Changes = append(res.Changes, ch)
	return res, err
}

// merger returns what to store over existing to hold want, and whether
// it differs from existing; it fills ch's Added and Kept.
type merger func(existing *gluedef.Table, want *gluedef.TableInput, now time.Time, ch *Change) (*gluedef.TableInput, bool, error)

// syncOne runs the read-merge-write loop of one table or view.
func (c *Catalog) syncOne(ctx context.Context, want *gluedef.TableInput, merge merger) (Change, error) {
	name := want.Name
	var lastErr error
	for attempt := 0; attempt < c.cfg.MaxAttempts; attempt++ {
		if attempt > 0 {
			if err := c.sleep(ctx, attempt); err != nil {
				return Change{Name: name, Action: Unchanged}, fmt.Errorf("glue table %s.%s: %w (last: %w)", c.cfg.Database, name, err, lastErr)
			}
		}
		ch := Change{Name: name}
		existing, err := c.get(ctx, name)
		if err != nil {
			if retryable(err) {
				lastErr = err
				continue
			}
			return Change{Name: name, Action: Unchanged}, fmt.Errorf("glue table %s.%s: get: %w", c.cfg.Database, name, err)
		}
		now := c.cfg.Now().UTC()
		if existing == nil {
			in := withCatalogedAt(want, now)
			ch.Action = Created
			ch.Added = columnNames(in)
			err = c.call(ctx, func(ctx context.Context) error {
				return c.api.CreateTable(ctx, &glueapi.CreateTableInput{
					CatalogID: c.cfg.CatalogID, DatabaseName: c.cfg.Database, TableInput: in,
				})
			})
		} else {
			in, changed, merr := merge(existing, want, now, &ch)
			if merr != nil {
				return Change{Name: name, Action: Unchanged, Kept: ch.Kept}, fmt.Errorf("glue table %s.%s: %w", c.cfg.Database, name, merr)
			}
			if !changed {
				ch.Action = Unchanged
				return ch, nil
			}
			ch.Action = Updated
			err = c.call(ctx, func(ctx context.Context) error {
				return c.api.UpdateTable(ctx, &glueapi.UpdateTableInput{
					CatalogID: c.cfg.CatalogID, DatabaseName: c.cfg.Database, TableInput: in,
					VersionID: existing.VersionID,
				})
			})
		}
		if err == nil {
			return ch, nil
		}
		if existing == nil && glueapi.IsCode(err, glueapi.CodeEntityNotFound) {
			// CreateTable finds no database: no retry makes one.
			return Change{Name: name, Action: Unchanged}, fmt.Errorf("glue table %s.%s: %s: %w (does the database exist?)", c.cfg.Database, name, ch.Action, err)
		}
		if glueapi.IsCode(err, glueapi.CodeAlreadyExists, glueapi.CodeConcurrentModification, glueapi.CodeEntityNotFound) || retryable(err) {
			// Another writer got there first, or the outcome is unknown:
			// read the table again and merge once more.
			lastErr = err
			continue
		}
		return Change{Name: name, Action: Unchanged}, fmt.Errorf("glue table %s.%s: %s: %w", c.cfg.Database, name, ch.Action, err)
	}
	return Change{Name: name, Action: Unchanged}, fmt.Errorf("glue table %s.%s: %w after %d attempts: %w", c.cfg.Database, name, ErrRetriesExhausted, c.cfg.MaxAttempts, lastErr)
}

// get returns the stored table, nil when there is none.
func (c *Catalog) get(ctx context.Context, name string) (*gluedef.Table, error) {
	var out *glueapi.GetTableOutput
	err := c.call(ctx, func(ctx context.Context) error {
		var err error
		out, err = c.api.GetTable(ctx, &glueapi.GetTableInput{
			CatalogID: c.cfg.CatalogID, DatabaseName: c.cfg.Database, Name: name,
		})
		return err
	})
	if glueapi.IsCode(err, glueapi.CodeEntityNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if out.Table == nil {
		return nil, fmt.Errorf("GetTable answered no table")
	}
	return out.Table, nil
}

// GetTable returns the stored Glue table (or view) name, nil when there
// is none; throttling and server errors are retried as Sync retries them.
func (c *Catalog) GetTable(ctx context.Context, name string) (*gluedef.Table, error) {
	var lastErr error
	for attempt := 0; attempt < c.cfg.MaxAttempts; attempt++ {
		if attempt > 0 {
			if err := c.sleep(ctx, attempt); err != nil {
				return nil, err
			}
		}
		t, err := c.get(ctx, name)
		if err == nil || !retryable(err) {
			return t, err
		}
		lastErr = err
	}
	return nil, fmt.Errorf("glue table %s.%s: %w: %w", c.cfg.Database, name, ErrRetriesExhausted, lastErr)
}

// call runs one API call bounded by AttemptTimeout.
func (c *Catalog) call(ctx context.Context, f func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.AttemptTimeout)
	defer cancel()
	return f(ctx)
}

// sleep waits before attempt n (1-based retries), with full jitter.
func (c *Catalog) sleep(ctx context.Context, n int) error {
	d := c.cfg.Backoff << min(n-1, 10)
	d = min(d, 5*time.Second)
	d = time.Duration(rand.Int64N(int64(d) + 1))
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// retryable reports errors whose outcome is unknown or that clear by
// waiting: throttling, server errors, timeouts, dropped connections and
// answers cut short.
func retryable(err error) bool {
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded",
			"InternalServiceException", "OperationTimeoutException", "ServiceUnavailableException":
			return true
		}
	}
	var ae *glueapi.APIError
	if errors.As(err, &ae) && ae.StatusCode >= 500 {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	// An answer cut short: the call may have been served.
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	// An attempt's own timeout; the caller's context ending stops the loop
	// before the next attempt.
	return errors.Is(err, context.DeadlineExceeded)
}

// mergeTable appends to existing the columns of want it lacks (stamped
// with now) and sets the parameters want holds; it never changes or
// removes a column. A stored definition that does not read the lake's
// manifests (another input format, a view) is foreign.
func mergeTable(existing *gluedef.Table, want *gluedef.TableInput, now time.Time, ch *Change) (*gluedef.TableInput, bool, error) {
	if existing.TableType != want.TableType || existing.StorageDescriptor == nil ||
		existing.StorageDescriptor.InputFormat != want.StorageDescriptor.InputFormat {
		return nil, false, fmt.Errorf("%w: stored as %s reading %s, where ddblake defines %s reading %s: drop it (ddblake catalog sync then creates it)",
			ErrForeignTable, existing.TableType, storedFormat(existing),
			want.TableType, want.StorageDescriptor.InputFormat)
	}
	in := existing.Input()
	changed := false
	have := map[string]string{}
	for _, col := range in.StorageDescriptor.Columns {
		have[col.Name] = col.Type
	}
	for _, col := range in.PartitionKeys {
		have[col.Name] = col.Type
	}
	for _, col := range want.StorageDescriptor.Columns {
		name := col.Name
		typ, ok := have[name]
		if !ok {
			col.Parameters = map[string]string{CatalogedAtParam: now.Format(time.RFC3339)}
			in.StorageDescriptor.Columns = append(in.StorageDescriptor.Columns, col)
			ch.Added = append(ch.Added, name)
			changed = true
			continue
		}
		if typ != col.Type {
			ch.Kept = append(ch.Kept, fmt.Sprintf("%s: %s (%s)", name, typ, col.Type))
		}
	}
	if in.Parameters == nil {
		in.Parameters = map[string]string{}
	}
	for _, k := range slices.Sorted(maps.Keys(want.Parameters)) {
		if v := want.Parameters[k]; in.Parameters[k] != v {
			in.Parameters[k] = v
			changed = true
		}
	}
	return in, changed, nil
}

func storedFormat(t *gluedef.Table) string {
	if t.StorageDescriptor == nil {
		return "nothing"
	}
	return t.StorageDescriptor.InputFormat
}

// withCatalogedAt returns want with every column stamped with now.
func withCatalogedAt(want *gluedef.TableInput, now time.Time) *gluedef.TableInput {
	in := *want
	if want.StorageDescriptor == nil {
		return &in
	}
	sd := *want.StorageDescriptor
	sd.Columns = slices.Clone(sd.Columns)
	for i := range sd.Columns {
		p := maps.Clone(sd.Columns[i].Parameters)
		if p == nil {
			p = map[string]string{}
		}
		p[CatalogedAtParam] = now.Format(time.RFC3339)
		sd.Columns[i].Parameters = p
	}
	in.StorageDescriptor = &sd
	return &in
}

func columnNames(in *gluedef.TableInput) []string {
	if in.StorageDescriptor == nil {
		return nil
	}
	out := make([]string, len(in.StorageDescriptor.Columns))
	for i, c := range in.StorageDescriptor.Columns {
		out[i] = c.Name
	}
	return out
}
