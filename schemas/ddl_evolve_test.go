package schemas_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/schemas"
)

// older is the sample schema as it was before its last six columns.
func older(t *testing.T) *schemas.Schema {
	s := sample(t).Clone()
	s.Columns = s.Columns[:len(s.Columns)-6]
	return reindexed(t, s)
}

// reindexed returns s read back from its JSON, so its lookups see columns
// changed in place.
func reindexed(t *testing.T, s *schemas.Schema) *schemas.Schema {
	t.Helper()
	b, err := json.Marshal(s)
	require.NoError(t, err)
	var out schemas.Schema
	require.NoError(t, json.Unmarshal(b, &out))
	return &out
}

func TestAddColumnsDDL(t *testing.T) {
	old, cur := older(t), sample(t)
	added, err := schemas.NewColumns(old, cur)
	require.NoError(t, err)
	var names []string
	for _, c := range added {
		names = append(names, c.Name)
	}
	require.Equal(t, []string{"editor_s_note", "sentiment", "ttl", "read_by", "reactions", "tips"}, names)

	ddl, err := schemas.AddColumnsDDL(old, cur, sampleOptions)
	require.NoError(t, err)
	golden(t, "chat_messages.alter.sql", []byte(ddl+";\n"))
	cols := parseColumns(t, ddl, "ALTER TABLE `chat_lake`.`chat_messages` ADD COLUMNS (")
	require.Len(t, cols, 6)
	require.Equal(t, ddlColumn{"editor_s_note", "string", "editor's note"}, cols[0])
	require.Equal(t, ddlColumn{"sentiment", "double", "sentiment"}, cols[1])
	require.Equal(t, ddlColumn{"ttl", "bigint", "ttl"}, cols[2])
	require.Equal(t, ddlColumn{"read_by", "map<string,bigint>", "readBy"}, cols[3])
	require.Equal(t, ddlColumn{"reactions", "map<string,string>", "reactions"}, cols[4])
	require.Equal(t, ddlColumn{"tips", "map<string,decimal(10,2)>", "tips"}, cols[5])

	// nothing new: nothing to run
	ddl, err = schemas.AddColumnsDDL(cur, cur.Clone(), sampleOptions)
	require.NoError(t, err)
	require.Empty(t, ddl)
}

func TestAddColumnsDDLRefusesNonAppend(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(newer *schemas.Schema)
		want   error
		column string
	}{
		{"type changed", func(s *schemas.Schema) { s.Columns[7].Type = schemas.Decimal(38, 0) }, schemas.ErrTypeChanged, "created_at"},
		{"decimal scale changed", func(s *schemas.Schema) { s.Columns[8].Type = schemas.Decimal(12, 3) }, schemas.ErrTypeChanged, "tip_amount"},
		{"array element changed", func(s *schemas.Schema) { s.Columns[10].Type = schemas.ArrayOf(schemas.Double) }, schemas.ErrTypeChanged, "reaction_counts"},
		{"column removed", func(s *schemas.Schema) { s.Columns = append(s.Columns[:3:3], s.Columns[4:]...) }, schemas.ErrColumnRemoved, "sender_user_id"},
		{"daily to hourly", func(s *schemas.Schema) { s.Hourly = true }, schemas.ErrPartitioningChanged, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			old := older(t)
			cur := sample(t).Clone()
			tc.mutate(cur)
			cur = reindexed(t, cur)
			ddl, err := schemas.AddColumnsDDL(old, cur, sampleOptions)
			require.ErrorIs(t, err, tc.want)
			require.Empty(t, ddl)
			var de *schemas.DefinitionError
			require.True(t, errors.As(err, &de))
			require.Equal(t, tc.column, de.Column)
		})
	}
}
