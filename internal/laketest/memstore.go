package laketest

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/ddblake/ddblake/sink"
)

// MemStore is a sink.Store in memory, for tests that write many small
// lakes: it passes the storetest suite, without a disk's syncs.
type MemStore struct {
	mu      sync.Mutex
	objects map[string][]byte
	version map[string]int
	next    int
}

var _ sink.Store = (*MemStore)(nil)

// NewMemStore returns an empty store.
func NewMemStore() *MemStore {
	return &MemStore{objects: map[string][]byte{}, version: map[string]int{}}
}

// Clone returns a copy of the store, for starting several tests from one
// lake.
func (m *MemStore) Clone() *MemStore {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := NewMemStore()
	for k, v := range m.objects {
		c.objects[k] = v
		c.version[k] = m.version[k]
	}
	c.next = m.next
	return c
}

func keyErr(op, key string, err error) error { return &sink.KeyError{Op: op, Key: key, Err: err} }

// Put stores a copy of body.
func (m *MemStore) Put(ctx context.Context, key string, body []byte) error {
	if err := sink.ValidateKey(key); err != nil {
		return keyErr("put", key, err)
	}
	if err := ctx.Err(); err != nil {
		return keyErr("put", key, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.set(key, body)
	return nil
}

func (m *MemStore) set(key string, body []byte) int {
	m.next++
	m.objects[key] = slices.Clone(body)
	m.version[key] = m.next
	return m.next
}

// Get returns a copy of the object.
func (m *MemStore) Get(ctx context.Context, key string) ([]byte, error) {
	b, _, err := m.GetVersion(ctx, key)
	return b, err
}

// GetVersion returns a copy of the object and its version.
func (m *MemStore) GetVersion(ctx context.Context, key string) ([]byte, string, error) {
	if err := sink.ValidateKey(key); err != nil {
		return nil, "", keyErr("get", key, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, "", keyErr("get", key, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.objects[key]
	if !ok {
		return nil, "", keyErr("get", key, sink.ErrNotExist)
	}
	return slices.Clone(b), strconv.Itoa(m.version[key]), nil
}

// PutIf writes body if the object's version is ifVersion ("" for none).
func (m *MemStore) PutIf(ctx context.Context, key string, body []byte, ifVersion string) (string, error) {
	if err := sink.ValidateKey(key); err != nil {
		return "", keyErr("putif", key, err)
	}
	if err := ctx.Err(); err != nil {
		return "", keyErr("putif", key, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	cur := ""
	if _, ok := m.objects[key]; ok {
		cur = strconv.Itoa(m.version[key])
	}
	if cur != ifVersion {
		return "", keyErr("putif", key, fmt.Errorf("%w: version %q, not %q", sink.ErrPrecondition, cur, ifVersion))
	}
	return strconv.Itoa(m.set(key, body)), nil
}

// List returns the objects under prefix, sorted by key.
func (m *MemStore) List(ctx context.Context, prefix string) ([]sink.Object, error) {
	if err := sink.ValidatePrefix(prefix); err != nil {
		return nil, keyErr("list", prefix, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, keyErr("list", prefix, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []sink.Object
	for k, v := range m.objects {
		if strings.HasPrefix(k, prefix) {
			out = append(out, sink.Object{Key: k, Size: int64(len(v))})
		}
	}
	slices.SortFunc(out, func(a, b sink.Object) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

// Delete removes the object.
func (m *MemStore) Delete(ctx context.Context, key string) error {
	if err := sink.ValidateKey(key); err != nil {
		return keyErr("delete", key, err)
	}
	if err := ctx.Err(); err != nil {
		return keyErr("delete", key, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.objects, key)
	delete(m.version, key)
	return nil
}

// URI names the store.
func (m *MemStore) URI() string { return "mem://lake" }
