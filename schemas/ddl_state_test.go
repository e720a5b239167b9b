package schemas_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ddblake/ddblake/schemas"
	"github.com/ddblake/ddblake/schemas/gluedef"
)

var sampleState = schemas.LatestState{Generation: "g000012-0123456789abcdef", Through: "2026-04-30"}

// TestStateGolden: the state table and the latest view over a state, for
// a daily and an hourly table.
func TestStateGolden(t *testing.T) {
	for name, schema := range map[string]func(testing.TB) *schemas.Schema{"chat_messages": sample, "chat_messages_hourly": sampleHourly} {
		t.Run(name, func(t *testing.T) {
			s := schema(t)
			table, err := schemas.StateTableDDL(s, sampleOptions)
			require.NoError(t, err)
			view, err := schemas.LatestStateViewDDL(s, sampleOptions, sampleState)
			require.NoError(t, err)
			golden(t, name+".state.sql", []byte(table+";\n\n"+view+";\n"))

			require.Contains(t, table, "CREATE EXTERNAL TABLE IF NOT EXISTS `chat_lake`.`"+s.Table+"__state`")
			require.Contains(t, table, "LOCATION 's3://acme-data-lake/ddblake/_ddblake/latest/"+s.Table+"/'")
			props := tblProperties(t, table)
			require.Equal(t, "injected", props["projection._generation.type"])
			require.Equal(t, "s3://acme-data-lake/ddblake/_ddblake/latest/"+s.Table+"/${_generation}/live/", props["storage.location.template"])
			require.Contains(t, view, `FROM "chat_lake"."`+s.Table+`__state" WHERE "_generation" = 'g000012-0123456789abcdef'`)
			require.Contains(t, view, `FROM "chat_lake"."`+s.Table+`" WHERE "dt" > '2026-04-30'`)
		})
	}
}

// TestStateRefusesBadStates: nothing but a generation and a day reaches
// the SQL.
func TestStateRefusesBadStates(t *testing.T) {
	s := sample(t)
	for _, st := range []schemas.LatestState{
		{Generation: "g000012-0123456789abcdef'; DROP TABLE x; --", Through: "2026-04-30"},
		{Generation: "g12-0123456789abcdef", Through: "2026-04-30"},
		{Generation: "g000012-0123456789abcdef", Through: "2026-4-30"},
		{Generation: "g000012-0123456789abcdef", Through: "2026-04-30' OR '1'='1"},
		{},
	} {
		_, err := schemas.LatestStateViewDDL(s, sampleOptions, st)
		require.ErrorIs(t, err, schemas.ErrBadOption, "%+v", st)
		o := sampleOptions
		o.States = map[string]schemas.LatestState{s.Table: st}
		require.ErrorIs(t, o.Validate(), schemas.ErrBadOption)
	}
}

// TestAthenaScriptWithState: a table with a state gets its state table
// and the view over it; another keeps the plain view.
func TestAthenaScriptWithState(t *testing.T) {
	a, b := sample(t), sample(t).Clone()
	b.Table = "chat_rooms"
	o := sampleOptions
	o.States = map[string]schemas.LatestState{"chat_messages": sampleState}
	script, err := schemas.AthenaScript([]*schemas.Schema{a, b}, o)
	require.NoError(t, err)
	require.Contains(t, script, "`chat_lake`.`chat_messages__state`")
	require.NotContains(t, script, "chat_rooms__state")
	require.Equal(t, 1, strings.Count(script, `"_generation" = 'g000012-0123456789abcdef'`))
	require.Contains(t, script, `FROM "chat_lake"."chat_rooms"`+"\n) AS \"ranked\"")
}

func TestStateAddColumns(t *testing.T) {
	older := sample(t)
	newer := older.Clone()
	_, err := newer.Add(schemas.Column{Name: "pinned", Path: "pinned", Type: schemas.Boolean})
	require.NoError(t, err)
	ddl, err := schemas.StateAddColumnsDDL(older, newer, sampleOptions)
	require.NoError(t, err)
	require.Equal(t, "ALTER TABLE `chat_lake`.`chat_messages__state` ADD COLUMNS (\n  `pinned` boolean COMMENT 'pinned'\n)", ddl)
}

// TestStateTableInput: the Glue definition says what the DDL says.
func TestStateTableInput(t *testing.T) {
	s := sampleHourly(t)
	in, err := gluedef.StateTable(s, sampleOptions)
	require.NoError(t, err)
	require.Equal(t, "chat_messages__state", in.Name)
	require.Equal(t, "s3://acme-data-lake/ddblake/_ddblake/latest/chat_messages/", in.StorageDescriptor.Location)
	require.Equal(t, schemas.ParquetInputFormat, in.StorageDescriptor.InputFormat)
	require.Len(t, in.PartitionKeys, 1)
	require.Equal(t, "_generation", in.PartitionKeys[0].Name)
	cols := in.StorageDescriptor.Columns
	require.Equal(t, "dt", cols[len(cols)-2].Name)
	require.Equal(t, "hr", cols[len(cols)-1].Name)
	ddl, err := schemas.StateTableDDL(s, sampleOptions)
	require.NoError(t, err)
	props := tblProperties(t, ddl)
	require.Equal(t, props, in.Parameters)
}
