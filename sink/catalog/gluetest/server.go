package gluetest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/ddblake/ddblake/sink/catalog/glueapi"
)

// Protocol constants of Glue's JSON 1.1 API.
const (
	// TargetPrefix starts every X-Amz-Target: "AWSGlue.GetTable"...
	TargetPrefix = "AWSGlue."
	// ContentType is the content type of requests and answers.
	ContentType = "application/x-amz-json-1.1"
)

// Error codes the fake answers with, as Glue spells them.
const (
	CodeEntityNotFound         = "EntityNotFoundException"
	CodeAlreadyExists          = "AlreadyExistsException"
	CodeConcurrentModification = "ConcurrentModificationException"
	CodeThrottling             = "ThrottlingException"
	CodeInvalidInput           = "InvalidInputException"
)

// MaxViewTextLen is the longest ViewOriginalText Glue accepts, in
// characters; the fake refuses a longer one as Glue does.
const MaxViewTextLen = 409600

// Column is a column of a stored table.
type Column struct {
	Name       string            `json:"Name"`
	Type       string            `json:"Type,omitempty"`
	Comment    string            `json:"Comment,omitempty"`
	Parameters map[string]string `json:"Parameters,omitempty"`
}

// StorageDescriptor is the part of a table's storage descriptor the fake
// keeps.
type StorageDescriptor struct {
	Columns      []Column       `json:"Columns,omitempty"`
	Location     string         `json:"Location,omitempty"`
	InputFormat  string         `json:"InputFormat,omitempty"`
	OutputFormat string         `json:"OutputFormat,omitempty"`
	SerdeInfo    map[string]any `json:"SerdeInfo,omitempty"`
}

// Table is a stored table (or view), as GetTable returns it.
type Table struct {
	Name              string             `json:"Name"`
	DatabaseName      string             `json:"DatabaseName,omitempty"`
	Description       string             `json:"Description,omitempty"`
	TableType         string             `json:"TableType,omitempty"`
	Parameters        map[string]string  `json:"Parameters,omitempty"`
	PartitionKeys     []Column           `json:"PartitionKeys,omitempty"`
	StorageDescriptor *StorageDescriptor `json:"StorageDescriptor,omitempty"`
	ViewOriginalText  string             `json:"ViewOriginalText,omitempty"`
	ViewExpandedText  string             `json:"ViewExpandedText,omitempty"`
	VersionID         string             `json:"VersionId,omitempty"`
	CreateTime        float64            `json:"CreateTime,omitempty"`
	UpdateTime        float64            `json:"UpdateTime,omitempty"`
}

// Columns returns the names of the table's columns, in order.
func (t Table) Columns() []string {
	if t.StorageDescriptor == nil {
		return nil
	}
	out := make([]string, len(t.StorageDescriptor.Columns))
	for i, c := range t.StorageDescriptor.Columns {
		out[i] = c.Name
	}
	return out
}

// Step scripts the answer to one call; the zero Step serves it.
type Step struct {
	// ErrorType answers with {"__type":ErrorType}, HTTP 400, and changes
	// nothing.
	ErrorType string
	// Before runs before the call is served, with the fake unlocked:
	// a concurrent writer's change (Server.Put) lands there.
	Before func()
}

// Call is one request the server received.
type Call struct {
	// Op is the operation: "GetTable", "CreateTable", "UpdateTable"...
	Op string
	// Table is the table name the call names.
	Table string
	// Error is the error code answered, "" for success.
	Error string
}

// Server is a fake Glue Data Catalog. Tables live in memory by database
// and name; each create or update gives a table a new VersionId ("1",
// "2", ...), and an UpdateTable whose VersionId is not the stored one
// fails with ConcurrentModificationException, as Glue's optimistic
// concurrency does. Requests that break the protocol are answered with
// InvalidInputException and reported as test failures. It is safe for
// concurrent use.
type Server struct {
	srv *httptest.Server
	now func() time.Time

	mu         sync.Mutex
	tables     map[string]*Table // "db/name"
	steps      map[string][]Step // by operation
	calls      []Call
	violations []string
}

// NewServer starts a Server that tb closes at its end, failing tb if any
// request broke the protocol.
func NewServer(tb testing.TB) *Server {
	tb.Helper()
	s := &Server{tables: map[string]*Table{}, steps: map[string][]Step{}, now: time.Now}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	tb.Cleanup(func() {
		s.srv.Close()
		for _, v := range s.Violations() {
			tb.Errorf("fake glue: %s", v)
		}
	})
	return s
}

// SetClock makes the server stamp create and update times with now.
func (s *Server) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// URL is the server's base URL, for the client's BaseEndpoint.
func (s *Server) URL() string { return s.srv.URL }

// Client returns the client the catalog sync uses (glueapi) calling the
// server, with static credentials and region us-east-1.
func (s *Server) Client() *glueapi.Client {
	c, err := glueapi.New(aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDFAKE", "secret", ""),
		HTTPClient:  s.srv.Client(),
	}, glueapi.Options{Endpoint: s.srv.URL})
	if err != nil {
		panic(err) // the configuration above is valid
	}
	return c
}

// Script queues steps for the next calls of op ("GetTable",
// "UpdateTable", "CreateTable"), one per call, in order.
func (s *Server) Script(op string, steps ...Step) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.steps[op] = append(s.steps[op], steps...)
}

// Put stores t as another writer would (CreateTable or UpdateTable
// without a VersionId), giving it the next VersionId.
func (s *Server) Put(db string, t Table) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.store(db, t)
}

// Table returns a copy of the stored table db.name.
func (s *Server) Table(db, name string) (Table, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tables[db+"/"+name]
	if !ok {
		return Table{}, false
	}
	return clone(*t), true
}

// Calls returns the calls received, in order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// CountCalls returns how many calls of op were received (any outcome).
func (s *Server) CountCalls(op string) int {
	n := 0
	for _, c := range s.Calls() {
		if c.Op == op {
			n++
		}
	}
	return n
}

// Violations returns the protocol breaches seen so far.
func (s *Server) Violations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.violations)
}

func clone(t Table) Table {
	b, _ := json.Marshal(t)
	var out Table
	_ = json.Unmarshal(b, &out)
	return out
}

// store saves t under db with the next version; the caller holds mu.
func (s *Server) store(db string, t Table) *Table {
	key := db + "/" + t.Name
	now := float64(s.now().UnixMilli()) / 1000
	version := 1
	if old, ok := s.tables[key]; ok {
		version, _ = strconv.Atoi(old.VersionID)
		version++
		t.CreateTime = old.CreateTime
	} else {
		t.CreateTime = now
	}
	t.DatabaseName = db
	t.UpdateTime = now
	t.VersionID = strconv.Itoa(version)
	c := clone(t)
	s.tables[key] = &c
	return &c
}

type request struct {
	CatalogID    string `json:"CatalogId"`
	DatabaseName string
	Name         string
	VersionID    string `json:"VersionId"`
	TableInput   *Table
	Expression   string
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	target := r.Header.Get("X-Amz-Target")
	op, okTarget := strings.CutPrefix(target, TargetPrefix)
	var req request
	bad := ""
	switch {
	case r.Method != http.MethodPost:
		bad = "method " + r.Method
	case !okTarget:
		bad = fmt.Sprintf("X-Amz-Target %q", target)
	case r.Header.Get("Content-Type") != ContentType:
		bad = fmt.Sprintf("Content-Type %q", r.Header.Get("Content-Type"))
	case json.Unmarshal(body, &req) != nil:
		bad = op + ": body is not JSON"
	case req.DatabaseName == "":
		bad = op + ": no DatabaseName"
	}
	name := req.Name
	if req.TableInput != nil {
		name = req.TableInput.Name
	}
	if bad == "" {
		switch op {
		case "GetTable":
			if name == "" {
				bad = "GetTable: no Name"
			}
		case "CreateTable", "UpdateTable":
			if req.TableInput == nil || name == "" {
				bad = op + ": no TableInput.Name"
			} else if req.TableInput.VersionID != "" || req.TableInput.UpdateTime != 0 || req.TableInput.CreateTime != 0 {
				bad = op + ": TableInput holds output-only fields"
			} else if n := utf8.RuneCountInString(req.TableInput.ViewOriginalText); n > MaxViewTextLen {
				bad = fmt.Sprintf("%s: ViewOriginalText of %d characters, Glue accepts %d", op, n, MaxViewTextLen)
			}
		case "GetTables":
		default:
			bad = "unsupported operation " + op
		}
	}

	s.mu.Lock()
	var step Step
	if bad != "" {
		s.violations = append(s.violations, bad)
		step = Step{ErrorType: CodeInvalidInput}
	} else if q := s.steps[op]; len(q) > 0 {
		step, s.steps[op] = q[0], q[1:]
	}
	s.mu.Unlock()
	if step.Before != nil {
		step.Before()
	}

	s.mu.Lock()
	code, msg, out := step.ErrorType, "scripted", any(nil)
	if code == "" {
		code, msg, out = s.apply(op, req, name)
	}
	s.calls = append(s.calls, Call{Op: op, Table: name, Error: code})
	s.mu.Unlock()

	w.Header().Set("X-Amzn-Requestid", "fake-glue")
	w.Header().Set("Content-Type", ContentType)
	if code != "" {
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "Message": msg})
		return
	}
	_ = json.NewEncoder(w).Encode(out)
}

// apply serves one valid call; the caller holds mu.
func (s *Server) apply(op string, req request, name string) (code, msg string, out any) {
	key := req.DatabaseName + "/" + name
	stored, exists := s.tables[key]
	switch op {
	case "GetTable":
		if !exists {
			return CodeEntityNotFound, "Table " + name + " not found.", nil
		}
		return "", "", map[string]any{"Table": stored}
	case "GetTables":
		var list []*Table
		for k, t := range s.tables {
			if strings.HasPrefix(k, req.DatabaseName+"/") {
				list = append(list, t)
			}
		}
		slices.SortFunc(list, func(a, b *Table) int { return strings.Compare(a.Name, b.Name) })
		return "", "", map[string]any{"TableList": list}
	case "CreateTable":
		if exists {
			return CodeAlreadyExists, "Table already exists.", nil
		}
		s.store(req.DatabaseName, *req.TableInput)
		return "", "", map[string]any{}
	case "UpdateTable":
		if !exists {
			return CodeEntityNotFound, "Table " + name + " not found.", nil
		}
		if req.VersionID != "" && req.VersionID != stored.VersionID {
			return CodeConcurrentModification, "Update table failed due to concurrent modifications.", nil
		}
		s.store(req.DatabaseName, *req.TableInput)
		return "", "", map[string]any{}
	}
	return CodeInvalidInput, "unsupported", nil
}
