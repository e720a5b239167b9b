package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ddblake/ddblake/sink"
)

// openPrevious opens the earlier copy of a registry that ddl --format alter
// compares with. Two layouts are read: a copy of the lake's metadata
// folder inside the folder named (DIR/_ddblake/schemas/, what
// `cp -r lake/_ddblake DIR/` gives when DIR exists, or a copy of a whole
// lake), and the metadata folder itself (DIR/schemas/, what the same
// command gives when DIR does not exist). A folder holding neither is
// refused: compared with nothing, every table would look new, and the
// script would re-create every table instead of altering it.
func (s *session) openPrevious(ctx context.Context, loc string) (sink.Store, error) {
	store, err := s.openLake(ctx, loc, false)
	if err != nil {
		return nil, err
	}
	objs, err := store.List(ctx, sink.SchemasPrefix)
	if err != nil {
		return nil, exit(ExitFailed, fmt.Errorf("ddl: previous registry %s: %w", loc, err))
	}
	if len(objs) > 0 {
		return store, nil
	}
	inner := strings.TrimPrefix(sink.SchemasPrefix, sink.MetaDir+"/")
	if objs, err = store.List(ctx, inner); err != nil {
		return nil, exit(ExitFailed, fmt.Errorf("ddl: previous registry %s: %w", loc, err))
	}
	if len(objs) > 0 {
		return metaDirStore{store}, nil
	}
	return nil, usage("ddl: --previous %s holds no registry (neither %s nor %s): copy the registry before the change with mkdir -p %s && cp -r LAKE/%s %s/",
		loc, sink.SchemasPrefix, inner, loc, sink.MetaDir, loc)
}

// metaDirStore reads a copy of a lake's metadata folder as if it were the
// lake: key _ddblake/x is the copy's x. It is read-only.
type metaDirStore struct{ sink.Store }

// errReadOnly is what metaDirStore's writes fail with.
var errReadOnly = errors.New("a previous registry is read-only")

func (m metaDirStore) inner(key string) string {
	return strings.TrimPrefix(key, sink.MetaDir+"/")
}

func (m metaDirStore) Get(ctx context.Context, key string) ([]byte, error) {
	if !strings.HasPrefix(key, sink.MetaDir+"/") {
		return nil, fmt.Errorf("%s: %w", key, sink.ErrNotExist)
	}
	return m.Store.Get(ctx, m.inner(key))
}

func (m metaDirStore) GetVersion(ctx context.Context, key string) ([]byte, string, error) {
	if !strings.HasPrefix(key, sink.MetaDir+"/") {
		return nil, "", fmt.Errorf("%s: %w", key, sink.ErrNotExist)
	}
	return m.Store.GetVersion(ctx, m.inner(key))
}

func (m metaDirStore) List(ctx context.Context, prefix string) ([]sink.Object, error) {
	if !strings.HasPrefix(prefix, sink.MetaDir+"/") {
		return nil, nil
	}
	objs, err := m.Store.List(ctx, m.inner(prefix))
	for i := range objs {
		objs[i].Key = sink.MetaDir + "/" + objs[i].Key
	}
	return objs, err
}

func (m metaDirStore) Put(context.Context, string, []byte) error { return errReadOnly }

func (m metaDirStore) PutIf(context.Context, string, []byte, string) (string, error) {
	return "", errReadOnly
}

func (m metaDirStore) Delete(context.Context, string) error { return errReadOnly }
