package schemas_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/schemas"
)

func TestMapType(t *testing.T) {
	for in, want := range map[string]string{
		"map<string,bigint>":           "map<string,bigint>",
		" MAP<string, decimal(12,2)> ": "map<string,decimal(12,2)>",
		"map<varchar,json>":            "map<string,json>",
		"map<string,binary>":           "map<string,binary>",
	} {
		typ, err := schemas.ParseType(in)
		require.NoError(t, err, in)
		require.Equal(t, want, typ.String())
		back, err := schemas.ParseType(typ.String())
		require.NoError(t, err)
		require.True(t, back.Equal(typ))
	}
	typ, err := schemas.ParseType("map<string,json>")
	require.NoError(t, err)
	require.Equal(t, "map<string,string>", typ.AthenaName())
	require.NoError(t, parseHiveType(typ.AthenaName()))
	require.Equal(t, schemas.KindJSON, typ.Leaf().Kind)
	require.False(t, typ.Equal(schemas.MapOf(schemas.String)))
	require.True(t, schemas.MapOf(schemas.Bigint).Equal(schemas.MapOf(schemas.Bigint)))

	for _, bad := range []string{"map<bigint,string>", "map<string>", "map<string,array<string>>",
		"map<string,map<string,string>>", "map<string,decimal(39,2)>", "array<map<string,string>>"} {
		_, err := schemas.ParseType(bad)
		require.ErrorIs(t, err, schemas.ErrBadType, bad)
	}
}

// TestRegistryJSONCompatible checks that a registry written before map
// columns existed still loads, and that a map column survives the round
// trip.
func TestRegistryJSONCompatible(t *testing.T) {
	old := `{"table":"t","keys":["id"],"columns":[
		{"name":"id","path":"id","type":"string","source":"S","first_seen":"2026-04-01T00:00:00Z"},
		{"name":"reactions","path":"reactions.👍","type":"bigint","source":"N","first_seen":"2026-04-01T00:00:00Z"}]}`
	var s schemas.Schema
	require.NoError(t, json.Unmarshal([]byte(old), &s))
	require.True(t, s.HasColumnsUnder("reactions"))
	require.Zero(t, s.MaxColumns)

	c, err := s.Add(schemas.Column{Name: "read_by", Path: "readBy", Type: schemas.MapOf(schemas.Bigint), Source: "M"})
	require.NoError(t, err)
	require.Equal(t, "read_by", c.Name)
	b, err := json.Marshal(&s)
	require.NoError(t, err)
	require.Contains(t, string(b), `"type":"map\u003cstring,bigint\u003e"`)
	require.NotContains(t, string(b), "max_columns", "the cap is configuration, not stored")
	var back schemas.Schema
	require.NoError(t, json.Unmarshal(b, &back))
	require.True(t, back.Equal(&s))
}

func TestHasColumnsUnder(t *testing.T) {
	s := schemas.NewSchema("t")
	for _, p := range []string{"a.b.c", `x\.y.z`, "solo"} {
		_, err := s.Add(schemas.Column{Name: "c" + string(rune('a'+len(s.Columns))), Path: p, Type: schemas.String})
		require.NoError(t, err)
	}
	for path, want := range map[string]bool{"a": true, "a.b": true, "a.b.c": false, `x\.y`: true, "x": false, "solo": false} {
		require.Equal(t, want, s.HasColumnsUnder(path), path)
	}
	require.True(t, s.Clone().HasColumnsUnder("a.b"))
}

func TestColumnCap(t *testing.T) {
	s := schemas.NewSchema("t")
	s.MaxColumns = 2
	for _, p := range []string{"a", "b"} {
		_, err := s.Add(schemas.Column{Name: p, Path: p, Type: schemas.String})
		require.NoError(t, err)
	}
	_, err := s.Add(schemas.Column{Name: "c", Path: "c", Type: schemas.String})
	require.ErrorIs(t, err, schemas.ErrTooManyColumns)
	require.Len(t, s.Columns, 2)

	// Merge: a writer that raced to the cap keeps the stored columns and
	// leaves its own out.
	stored := schemas.NewSchema("t")
	for _, p := range []string{"x", "y"} {
		_, err := stored.Add(schemas.Column{Name: p, Path: p, Type: schemas.String})
		require.NoError(t, err)
	}
	mine := s.Clone()
	require.Equal(t, 2, mine.MaxColumns, "Clone keeps the cap")
	mine.Merge(stored)
	require.Equal(t, []string{"x", "y"}, []string{mine.Columns[0].Path, mine.Columns[1].Path})
	require.Len(t, mine.Columns, 2)

	// A stored schema past the cap keeps every column.
	stored.MaxColumns = 1
	require.Len(t, stored.Columns, 2)
	require.NoError(t, stored.Validate())
}

// TestMergeKeepsFirstMapChoice checks that two writers racing on one map
// path, one keeping it whole and one flattening it, end with the choice
// of whoever committed first.
func TestMergeKeepsFirstMapChoice(t *testing.T) {
	mapped := schemas.NewSchema("t")
	_, err := mapped.Add(schemas.Column{Name: "read_by", Path: "readBy", Type: schemas.MapOf(schemas.Bigint), Source: "M"})
	require.NoError(t, err)
	flat := schemas.NewSchema("t")
	_, err = flat.Add(schemas.Column{Name: "read_by_alice", Path: "readBy.alice", Type: schemas.Bigint, Source: "N"})
	require.NoError(t, err)

	m := flat.Clone()
	m.Merge(mapped) // the map was stored first
	require.Len(t, m.Columns, 1)
	require.Equal(t, "readBy", m.Columns[0].Path)

	m = mapped.Clone()
	m.Merge(flat) // the flattened column was stored first
	require.Len(t, m.Columns, 1)
	require.Equal(t, "readBy.alice", m.Columns[0].Path)
}
